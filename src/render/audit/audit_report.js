// The audit report's table: filters, sorting and paging over the findings
// embedded in the page. Every value is put in the page as text
// (textContent), never as markup, so nothing from AWS or the contacts file
// can become HTML or script.
(function () {
  "use strict";
  var PAGE = 500;
  var data = JSON.parse(document.getElementById("audit-data").textContent);
  var strings = data.strings;
  var severities = ["high", "medium", "low"];
  var severityLabels = ["High", "Medium", "Low"];
  var rows = data.findings.map(function (f, index) {
    return {
      index: index,
      severity: f[0],
      check: f[1],
      account: strings[f[2]],
      name: strings[f[3]],
      message: strings[f[4]],
      controls: f[5],
      location: strings[f[6]],
      remediation: strings[f[7]],
      address: strings[f[8]],
      muted: f[9] === null ? "" : strings[f[9]],
    };
  });
  var state = { severity: "", control: "", account: "", sort: "severity", dir: 1, limit: PAGE };
  var body = document.querySelector("#findings-table tbody");
  var shown = document.getElementById("shown");
  var more = document.getElementById("more");

  // Muted findings are shown apart, under the "Muted" filter only, so the
  // table counts what the summary counts.
  function inPool(row) {
    return (row.muted !== "") === (state.severity === "muted");
  }

  function matches(row) {
    if (!inPool(row)) return false;
    if (state.severity !== "" && state.severity !== "muted" &&
      severities[row.severity] !== state.severity) return false;
    if (state.control !== "" && row.controls.indexOf(Number(state.control)) < 0) return false;
    var query = state.account.trim().toLowerCase();
    if (query !== "") {
      var haystack = (row.account + " " + row.name + " " + row.address).toLowerCase();
      if (haystack.indexOf(query) < 0) return false;
    }
    return true;
  }

  var keys = {
    severity: function (row) { return row.severity; },
    account: function (row) { return row.account + " " + row.name; },
    check: function (row) { return data.checks[row.check].title; },
    control: function (row) { return row.controls.length ? data.controls[row.controls[0]] : "\uffff"; },
  };

  function compare(a, b) {
    var key = keys[state.sort];
    var x = key(a);
    var y = key(b);
    if (x < y) return -state.dir;
    if (x > y) return state.dir;
    return a.index - b.index;
  }

  // Each cell's column, for the narrow layout where a row is a card and
  // the header is not shown.
  var labels = Array.prototype.map.call(
    document.querySelectorAll("#findings-table thead th"), function (th) { return th.textContent; });

  var hasWhere = document.querySelector("#findings-table th.where") !== null;

  function cell(tr, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    td.dataset.label = labels[tr.children.length];
    if (className) td.className = className;
    tr.appendChild(td);
    return td;
  }

  function line(parent, tag, text, className) {
    var element = document.createElement(tag);
    element.textContent = text;
    if (className) element.className = className;
    parent.appendChild(element);
  }

  function row(r) {
    var tr = document.createElement("tr");
    tr.dataset.severity = severities[r.severity];
    var severity = cell(tr, "", "severity");
    line(severity, "span", severityLabels[r.severity], "badge " + severities[r.severity]);
    var account = cell(tr, "", "account");
    line(account, "span", r.account, "id");
    if (r.name) line(account, "span", r.name, "name");
    var check = cell(tr, "", "check");
    line(check, "span", data.checks[r.check].title, "title");
    line(check, "span", data.checks[r.check].code, "code");
    var message = cell(tr, r.message, "message");
    if (r.muted) {
      tr.classList.add("muted");
      line(message, "span", r.muted, "mute");
    }
    var controls = cell(tr, "", "controls");
    r.controls.forEach(function (c) { line(controls, "span", data.controls[c], "control"); });
    if (hasWhere) cell(tr, r.location, "location");
    var fix = cell(tr, "", "remediation");
    if (r.remediation) line(fix, "code", r.remediation);
    return tr;
  }

  function render(all) {
    var list = rows.filter(matches).sort(compare);
    var count = all ? list.length : Math.min(state.limit, list.length);
    var fragment = document.createDocumentFragment();
    for (var i = 0; i < count; i++) fragment.appendChild(row(list[i]));
    body.replaceChildren(fragment);
    var pool = rows.filter(inPool).length;
    shown.textContent = "Showing " + count.toLocaleString("en-US") + " of " +
      list.length.toLocaleString("en-US") + (state.severity === "muted" ? " muted findings" : " findings") +
      (list.length < pool ? " (" + pool.toLocaleString("en-US") + " in all)" : "");
    more.hidden = count >= list.length;
    document.querySelectorAll("#findings-table th[data-sort]").forEach(function (th) {
      th.setAttribute("aria-sort", th.dataset.sort === state.sort ? (state.dir > 0 ? "ascending" : "descending") : "none");
    });
  }

  function refilter() {
    state.limit = PAGE;
    render(false);
  }

  document.getElementById("filter-severity").addEventListener("change", function (e) { state.severity = e.target.value; refilter(); });
  document.getElementById("filter-control").addEventListener("change", function (e) { state.control = e.target.value; refilter(); });
  document.getElementById("filter-account").addEventListener("input", function (e) { state.account = e.target.value; refilter(); });
  more.addEventListener("click", function () { state.limit += PAGE; render(false); });
  document.querySelectorAll("#findings-table th[data-sort]").forEach(function (th) {
    var sort = function () {
      state.dir = state.sort === th.dataset.sort ? -state.dir : 1;
      state.sort = th.dataset.sort;
      render(false);
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
  });
  // A printed report holds every finding the filters keep, not one page.
  window.addEventListener("beforeprint", function () { render(true); });
  window.addEventListener("afterprint", function () { render(false); });
  document.documentElement.classList.add("scripted");
  render(false);
})();
