"""The native JSON API face (`/api/`): routes, request and response shapes, serializers."""
