"""`dlink check`, `dlink fix`, `dlink rules`, `dlink explain`."""
