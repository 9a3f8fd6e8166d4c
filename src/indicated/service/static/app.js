// The review page's one script, served from this site (the Content-Security-Policy allows no inline
// script). A click on a checklist line scrolls the record to the words that decided it and flashes
// them. Without script the line's quotes are plain links (href="#ev-START-END") to the same words.
(function () {
  "use strict";

  // Side by side, the record scrolls in its own pane: centre the words there, and move the window only
  // if they are still off screen. One above the other (a phone), the window scrolls to them.
  function reveal(mark) {
    var pane = mark.closest(".record-pane");
    if (pane && pane.scrollHeight > pane.clientHeight + 1 && getComputedStyle(pane).overflowY !== "visible") {
      var offset = mark.getBoundingClientRect().top - pane.getBoundingClientRect().top;
      pane.scrollTop += offset - pane.clientHeight / 2;
    }
    var box = mark.getBoundingClientRect();
    if (box.top >= 0 && box.bottom <= window.innerHeight) {
      return;
    }
    mark.scrollIntoView({ block: "center", behavior: "smooth" });
  }

  function show(line) {
    var marks = document.querySelectorAll('mark[data-crit~="' + line.id + '"]');
    if (!marks.length) {
      return false;
    }
    document.querySelectorAll("mark.flash").forEach(function (m) {
      m.classList.remove("flash");
    });
    document.querySelectorAll("li.current").forEach(function (l) {
      l.classList.remove("current");
    });
    line.classList.add("current");
    reveal(marks[0]);
    marks.forEach(function (m) {
      void m.offsetWidth; // restart the animation when the same words are shown again
      m.classList.add("flash");
    });
    return true;
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element) || target.closest('a[href^="#ref-"]')) {
      return; // a citation goes to its reference
    }
    var line = target.closest('li[id^="crit-"]');
    if (line && show(line)) {
      event.preventDefault();
    }
  });
})();
