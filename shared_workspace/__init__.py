"""Joint-inspection workspaces shared by participating inspectorates."""
