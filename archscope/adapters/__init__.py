"""One small adapter per dependency for the private APIs archscope relies on.

Each private name is reached only from here, so an upgrade that removes one breaks one module,
and ``tests/test_adapters.py`` says which API went missing instead of a failure deep inside a
count.
"""
