// Ask the LMS to fit its frame to the page: the LTI "lti.frameResize" message
// ({subject: "lti.frameResize", height: N} to the parent window), which Canvas and
// Moodle honour. Sent once the page has loaded and again whenever its height changes.
// Outside a frame there is no one to ask, and nothing happens.
(function () {
  "use strict";
  if (window.parent === window) {
    return;
  }
  var sent = -1;

  function pageHeight() {
    // The document's own height, not the frame's: scrollHeight never shrinks below the
    // viewport, so a page that gets shorter could never ask for less.
    var root = document.documentElement;
    return Math.ceil(root.getBoundingClientRect().height);
  }

  function send() {
    var height = pageHeight();
    if (height === sent || height <= 0) {
      return;
    }
    sent = height;
    // The message carries nothing but a height, so any parent may read it: Tandem does
    // not know which of its registered platforms framed this page.
    window.parent.postMessage({ subject: "lti.frameResize", height: height }, "*");
  }

  function start() {
    send();
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(send).observe(document.documentElement);
    } else {
      window.addEventListener("resize", send);
    }
  }

  if (document.readyState === "complete") {
    start();
  } else {
    window.addEventListener("load", start);
  }
})();
