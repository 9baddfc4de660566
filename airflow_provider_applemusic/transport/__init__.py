"""The transport: the one way a request reaches the service, and the policies it applies."""
