"""Customers: the User model, customers, addresses, consent, reviews, support."""
