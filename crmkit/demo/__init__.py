"""Demo support for crmkit: realistic, reproducible sample data for trying the CRM out."""
