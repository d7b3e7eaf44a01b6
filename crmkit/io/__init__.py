"""Import and export: file formats (importers, exporters) and the contact import pipeline."""
