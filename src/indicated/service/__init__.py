"""The HTTP service: CDS Hooks (Da Vinci CRD), prior authorization (Da Vinci PAS) and the articles
they link to. ``create_app()`` builds it; ``indicated serve`` runs it."""

from indicated.service.app import create_app

__all__ = ["create_app"]
