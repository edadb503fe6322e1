"""A static picture of an explorer widget, for pages read without a kernel.

Every explorer's display bundle carries, next to the live widget view, a ``text/html``
rendering of its initial state: the controls and their values, the summary line and the
chart, with a line saying the widget is interactive in ``make lab``.  JupyterLab shows the
live widget; an HTML report (which has no kernel) shows the picture.
"""

from __future__ import annotations

import base64
import html

NOTE = ("A static picture of this widget's initial state; run the notebook in "
        "<code>make lab</code> to move the controls.")


def static_html(box) -> str:
    """Return the HTML picture of an explorer ``box`` as it is now.

    Parameters
    ----------
    box : ipywidgets.Box
        An explorer with ``controls`` (dict name → widget), ``summary`` (HTML widget) and
        ``image`` (PNG Image widget).

    Returns
    -------
    str
    """
    controls = []
    for name, control in getattr(box, "controls", {}).items():
        value = control.value
        label = control.description or name
        text = f"{value:.3g}" if isinstance(value, float) else html.escape(str(value))
        controls.append(f"<b>{html.escape(label)}</b> = {text}")
    png = base64.b64encode(bytes(box.image.value)).decode("ascii")
    return ("<div class='dsalgo-static-widget'>"
            f"<p class='note'>{NOTE}</p>"
            f"<p>{' &nbsp;·&nbsp; '.join(controls)}</p>"
            f"<div>{box.summary.value}</div>"
            f"<img alt='the widget chart at its initial state' "
            f"src='data:image/png;base64,{png}'></div>")


def with_static_picture(box):
    """Make ``box`` display with a static ``text/html`` picture beside its live view.

    Examples
    --------
    >>> from dsalgo.widgets import quorum_explorer
    >>> data, _ = quorum_explorer(n=3)._repr_mimebundle_()
    >>> sorted(data)
    ['application/vnd.jupyter.widget-view+json', 'text/html', 'text/plain']
    >>> "make lab" in data["text/html"] and "data:image/png;base64," in data["text/html"]
    True
    """
    live = box._repr_mimebundle_

    def bundle(**kwargs):
        data = live(**kwargs) or {}
        if isinstance(data, tuple):
            data, meta = data
        else:
            meta = {}
        data = dict(data)
        data["text/html"] = static_html(box)
        return data, meta

    box._repr_mimebundle_ = bundle
    return box
