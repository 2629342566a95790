"""``python -m absa.src.ablation``: the grid runner (``runner.main``)."""

from absa.src.ablation.runner import main

main()
