"""Interactive HTML reports (the API function is ``archscope.report``, in :mod:`archscope.api`).

``figures``, ``bench_figures``, ``compare_figures`` and ``training_figures`` build Plotly
figures from DataFrames, ``data``, ``sections``, ``compare``, ``training`` and ``bench_section``
gather what they show, ``page`` assembles one self-contained HTML file, ``build`` runs it all.
"""
