"""Built-in plugins. The engine never imports a concrete adapter: it reads registries that
these plugins fill, exactly like third-party ones do."""
