"""The UI's pages, one module per area (login, browsing, images, projects, admin)."""
