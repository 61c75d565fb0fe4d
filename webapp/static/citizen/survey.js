/* The survey page's only script, and an optional one: the page works without it.
   It adds a live character count to the comment box and stops a second submit
   (a double tap on a slow network); the database refuses a second answer anyway. */
(function () {
  "use strict";
  var form = document.querySelector("form.survey");
  if (!form) {
    return;
  }

  var comment = document.getElementById("comment");
  var counter = document.getElementById("comment-count");
  var live = document.getElementById("comment-live");
  if (comment && counter && live) {
    var max = parseInt(comment.getAttribute("maxlength"), 10);
    // maxlength and value.length count UTF-16 units, an emoji or a rare character as two;
    // the server counts characters. Where the browser can count characters, the script
    // counts them and takes over the limit (the server enforces it anyway).
    var characters = Array.from ? function (text) { return Array.from(text).length; } : null;
    if (characters) {
      comment.removeAttribute("maxlength");
    }
    var announceTimer = null;
    var showCount = function () {
      // Blanks around the comment are not stored, so they are not counted either.
      var text = comment.value.trim();
      var used = characters ? characters(text) : text.length;
      counter.textContent = used > max
        ? "已超出 " + (used - max) + " 字（最多 " + max + " 字）"
        : "已输入 " + used + " / " + max + " 字";
      counter.classList.toggle("near-limit", max - used <= 20);
      return max - used;
    };
    counter.hidden = false;
    showCount();
    comment.addEventListener("input", function () {
      var left = showCount();
      // Screen readers hear the count once typing pauses, not on every key.
      clearTimeout(announceTimer);
      announceTimer = setTimeout(function () {
        live.textContent = left >= 0 ? "还可以输入 " + left + " 字" : "已超出 " + -left + " 字";
      }, 1200);
    });
  }

  var button = form.querySelector("button[type=submit]");
  var label = button ? button.textContent : "";
  var submitting = false;
  var RETRY_AFTER_MS = 15000;
  var release = function () {
    submitting = false;
    if (button) {
      button.disabled = false;
      button.textContent = label;
    }
  };
  form.addEventListener("submit", function (event) {
    if (submitting) {
      event.preventDefault();
      return;
    }
    submitting = true;
    if (button) {
      button.disabled = true;
      button.textContent = "正在提交，请稍候…";
    }
    // If the answer never comes (the citizen pressed stop, the network dropped), the
    // button comes back after a while; a second answer is refused by the server anyway.
    setTimeout(release, RETRY_AFTER_MS);
  });
  // Coming back with the Back button must not leave a dead form.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      release();
    }
  });
})();
