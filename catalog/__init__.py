"""Catalog: products, variants, categories, collections, images, prices, SEO, search."""
