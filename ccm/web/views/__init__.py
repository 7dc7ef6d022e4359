"""One module per UI section; each exposes a `router` built with `ccm.web.errors.PageRoute`."""
