"""``cachelint server``: a language server over stdio (pygls), from the same engine as ``check``.

``model`` keeps each project warm in memory (no pygls import: the benchmark and the tests use it
directly); ``lsp`` speaks the protocol. pygls is imported only by ``cachelint server``.
"""
