"""Local fakes of the helpdesks' APIs for tests and the demo. Imports only ``sync``."""
