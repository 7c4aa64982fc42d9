"""Commissioning letters, circulation of drafts to critical readers, the consolidated media
strategy, the publication plan and the recommendations tracker (001 §15-17, §36-47)."""
