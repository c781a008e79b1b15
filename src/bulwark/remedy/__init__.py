"""Remedies by state: the catalogue of administrative setters, the search for the smallest parameter
change that stops an attack, its verdict and the impact report of any remedy."""
