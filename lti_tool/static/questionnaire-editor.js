/* The questionnaire editor on a programme's set-up page.
 *
 * The editor is a plain form that works without this script (Save, or Preview to see
 * the members' form). This script only adds comfort: move buttons that reorder the
 * questions (renumbering their Position fields), fields shown only for the kinds and
 * rules that use them, and a preview refreshed from the server as the coordinator
 * types (the server renders it with the very template members get).
 * Loaded as a static file with the page's nonce: the script policy allows no inline code.
 */
(function () {
  "use strict";
  var form = document.getElementById("questionnaire-editor");
  var preview = document.getElementById("questionnaire-preview");
  if (!form || !preview) {
    return;
  }
  var list = form.querySelector(".question-list");
  var timer = null;
  var asked = 0;

  function showFor(scope, attribute, value) {
    scope.querySelectorAll("[" + attribute + "]").forEach(function (element) {
      var wanted = element.getAttribute(attribute).split(" ");
      element.hidden = wanted.indexOf(value) < 0;
    });
  }

  function showQuestionFields(row) {
    var kind = row.querySelector("select[data-kind]");
    if (kind) {
      showFor(row, "data-kinds", kind.value);
    }
  }

  function showRuleFields(row) {
    var rule = row.querySelector("select[data-rule]");
    if (rule) {
      showFor(row, "data-rules", rule.value);
    }
  }

  function renumber() {
    list.querySelectorAll(".question-row").forEach(function (row, index) {
      var position = row.querySelector("input[data-position]");
      if (position) {
        position.value = String(index + 1);
      }
    });
  }

  function refresh() {
    var mine = ++asked;
    fetch(form.getAttribute("data-preview"), {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.text();
      })
      .then(function (html) {
        if (mine === asked) {  // an older answer never overwrites a newer one
          preview.innerHTML = html;
        }
      })
      .catch(function () {
        /* the Preview button still works */
      });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 300);
  }

  list.querySelectorAll(".question-row").forEach(showQuestionFields);
  form.querySelectorAll(".rule-row").forEach(showRuleFields);
  form.querySelectorAll("button[data-move]").forEach(function (button) {
    button.hidden = false;
  });

  list.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-move]");
    if (!button) {
      return;
    }
    var row = button.closest(".question-row");
    if (button.getAttribute("data-move") === "up" && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
    } else if (button.getAttribute("data-move") === "down" && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
    }
    renumber();
    button.focus();
    later();
  });

  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("select[data-kind]")) {
      showQuestionFields(target.closest(".question-row"));
    } else if (target.matches("select[data-rule]")) {
      showRuleFields(target.closest(".rule-row"));
    }
    later();
  });
  form.addEventListener("input", later);

  // The preview's forms are for looking only.
  preview.addEventListener("submit", function (event) {
    event.preventDefault();
  });
})();
