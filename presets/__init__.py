"""The 20 shipped presets (YAML), installed as the package data gifcli.presets."""
