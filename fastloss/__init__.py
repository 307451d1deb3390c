"""fastloss: fast, exact, reproducible machine-learning losses for the CPU.

Every loss is a class (hyper-parameters and reduction as keyword-only arguments)
with value, gradient, value_and_gradient and gradient_hessian, plus a function
shortcut returning the value. See README.md and the module docstrings.
"""

from fastloss import _version
from fastloss._core.config import get_num_threads, set_num_threads, show_config, threads
from fastloss.classification import *  # noqa: F403
from fastloss.classification import __all__ as _classification_all
from fastloss.detection import *  # noqa: F403
from fastloss.detection import __all__ as _detection_all
from fastloss.embedding import *  # noqa: F403
from fastloss.embedding import __all__ as _embedding_all
from fastloss.ranking import *  # noqa: F403
from fastloss.ranking import __all__ as _ranking_all
from fastloss.regression import *  # noqa: F403
from fastloss.regression import __all__ as _regression_all
from fastloss.segmentation import *  # noqa: F403
from fastloss.segmentation import __all__ as _segmentation_all
from fastloss.sequence import *  # noqa: F403
from fastloss.sequence import __all__ as _sequence_all

#: The package version (written by the build from meson.build, its one source).
__version__: str = _version.__version__

__all__ = [
    "get_num_threads", "set_num_threads", "threads", "show_config",
    *_regression_all,
    *_classification_all,
    *_detection_all,
    *_segmentation_all,
    *_embedding_all,
    *_ranking_all,
    *_sequence_all,
]
