# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The assistant's ports over the ORM: products found by the hybrid index, then read live from Odoo.

The search only says *which* products; price, currency, stock and variants are read from
``product.template`` / ``product.product`` when the assistant asks (``get``), never from the index.
"""

from odoo_search_lib.assistant import ProductInfo, ProductMatch, Variant
from odoo_search_lib.assistant.adapters import variant_options


class OdooCatalog:
    """:class:`odoo_search_lib.assistant.CatalogPort` over ``semantic.search.service`` and the ORM."""

    def __init__(self, env, company):
        self.env = env
        self.company = company
        self.service = env["semantic.search.service"]

    def search(self, query, *, limit):
        result = self.service.search_products(query, limit=limit, company_ids=[self.company.id])
        return [ProductMatch(hit.id, hit.confidence) for hit in result.hits]

    def get(self, product_id):
        res_id = self.service._parse_product_doc_id(product_id)
        if not res_id:
            return None
        template = self.env["product.template"].with_company(self.company).browse(res_id).exists()
        if not template or not self.service._is_indexable(template):
            return None
        if template.company_id and template.company_id != self.company:
            return None
        currency = (template.currency_id or self.company.currency_id).name or "BRL"
        attributes, _variants = self.service._product_attributes(template)
        variants = ()
        products = template.product_variant_ids
        if len(products) > 1:
            variants = tuple(
                Variant(
                    id=f"product.product,{product.id}",
                    name=product.display_name,
                    price=product.lst_price,
                    currency=currency,
                    in_stock=self._variant_in_stock(template, product),
                    options=variant_options(
                        {value.attribute_id.name: value.name for value in product.product_template_attribute_value_ids}
                    ),
                )
                for product in products
            )
        return ProductInfo(
            id=product_id,
            name=template.name,
            price=template.list_price,
            currency=currency,
            in_stock=self.service._product_in_stock(template),
            category=self.service._category_path(template.categ_id),
            attributes=attributes,
            variants=variants,
        )

    def _variant_in_stock(self, template, product):
        if "qty_available" not in product._fields:
            return True  # stock is not installed: everything counts as available
        storable = template.type == "consu" and (template.is_storable if "is_storable" in template._fields else True)
        return product.qty_available > 0 if storable else True


class NoRules:
    """The rules port when no rules addon is installed: there are no rules."""

    def search(self, query, *, at, limit, valid_only=True):
        return []
