"""Stakeholders: each inspectorate's private directory, the entries it nominates for an
inspection, and the consolidated distribution list in which each real person or organisation
appears once (001 §1, §42-43)."""
