"""Settings package: storefront.settings.base holds the shared values, .production the deployed ones."""
