"""HTTP edge of the service: health, metrics, the JSON API and the console pages."""
