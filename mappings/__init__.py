"""SOP mappings shipped with helpdesk-sync: one YAML file per SOP family."""
