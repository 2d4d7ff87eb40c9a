// The admin UI's small helpers, served from the binary (CSP: 'self').
// Everything works without it; it adds:
//  - the dashboard's live countdown of open secret windows;
//  - the key editor's phone picture: a click on a free key fills a blank
//    row of the key table with that place, and dragging an own key onto
//    another place moves it there (or swaps the two) by rewriting the
//    rows' position and module. "Save keys" saves as usual.
(function () {
  "use strict";

  // ---- countdowns ----
  var counters = document.querySelectorAll(".countdown[data-until]");
  function tick() {
    var now = Date.now();
    counters.forEach(function (el) {
      var until = Date.parse(el.getAttribute("data-until"));
      if (isNaN(until)) { return; }
      var s = Math.max(0, Math.round((until - now) / 1000));
      var fmt = s > 0 ? el.getAttribute("data-left") : el.getAttribute("data-gone");
      if (!fmt) { return; }
      var m = Math.floor(s / 60), r = s % 60;
      el.textContent = fmt.replace("%s", m + ":" + (r < 10 ? "0" : "") + r);
    });
  }
  if (counters.length) { tick(); window.setInterval(tick, 1000); }

  // ---- key editor ----
  var form = document.getElementById("key-form");
  if (!form) { return; }
  var rows = form.querySelectorAll("tbody tr");
  function field(row, name) { return row.querySelector("[name=" + name + "]"); }
  function blank(row) {
    var els = row.querySelectorAll("input, select");
    for (var i = 0; i < els.length; i++) { if (els[i].value !== "") { return false; } }
    return true;
  }
  function place(row, module, position) {
    field(row, "k_position").value = position;
    field(row, "k_module").value = module === "0" ? "" : module;
  }
  var note = document.getElementById("reorder-note");

  document.querySelectorAll("a.slot").forEach(function (slot) {
    slot.addEventListener("click", function (ev) {
      var r = slot.getAttribute("data-row");
      if (r !== null) { // its own key: go to its row
        ev.preventDefault();
        var row = rows[+r];
        row.scrollIntoView({ block: "center" });
        field(row, "k_type").focus();
        return;
      }
      for (var i = 0; i < rows.length; i++) {
        if (blank(rows[i])) {
          ev.preventDefault();
          place(rows[i], slot.getAttribute("data-module"), slot.getAttribute("data-position"));
          slot.setAttribute("data-row", String(i));
          rows[i].scrollIntoView({ block: "center" });
          field(rows[i], "k_type").focus();
          return;
        }
      }
    });
    slot.addEventListener("dragstart", function (ev) {
      if (slot.getAttribute("data-row") === null) { ev.preventDefault(); return; }
      ev.dataTransfer.setData("text/plain", slot.getAttribute("data-module") + "/" + slot.getAttribute("data-position"));
      ev.dataTransfer.effectAllowed = "move";
    });
    slot.addEventListener("dragover", function (ev) { ev.preventDefault(); ev.dataTransfer.dropEffect = "move"; });
    slot.addEventListener("drop", function (ev) {
      ev.preventDefault();
      var from = ev.dataTransfer.getData("text/plain").split("/");
      var src = document.querySelector('a.slot[data-module="' + from[0] + '"][data-position="' + from[1] + '"]');
      if (!src || src === slot) { return; }
      move(src, slot);
    });
  });

  // move puts src's own key on dst's place and dst's own key (if any) on
  // src's place, in the table and in the picture.
  function move(src, dst) {
    var sr = src.getAttribute("data-row"), dr = dst.getAttribute("data-row");
    place(rows[+sr], dst.getAttribute("data-module"), dst.getAttribute("data-position"));
    if (dr !== null) {
      place(rows[+dr], src.getAttribute("data-module"), src.getAttribute("data-position"));
    }
    var keep = { html: dst.querySelector(".kl") ? dst.innerHTML : "", cls: dst.className };
    var pos = function (el) { return el.querySelector(".pos").outerHTML; };
    var srcBody = src.innerHTML.replace(pos(src), ""), dstBody = dst.innerHTML.replace(pos(dst), "");
    var srcPos = pos(src), dstPos = pos(dst);
    dst.innerHTML = dstPos + srcBody;
    src.innerHTML = srcPos + dstBody;
    dst.className = src.className;
    src.className = keep.cls;
    dst.setAttribute("data-row", sr);
    dst.setAttribute("draggable", "true");
    if (dr !== null) {
      src.setAttribute("data-row", dr);
    } else {
      src.removeAttribute("data-row");
      src.removeAttribute("draggable");
    }
    if (note) { note.hidden = false; }
  }
})();
