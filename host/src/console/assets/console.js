// jack-pms console: live refresh of the Hotels rows and the Events table. Everything shown is
// either HTML the server rendered and escaped (the Hotels rows) or text put in with
// textContent (events): nothing from the network is parsed as markup here.
"use strict";

function liveHotels() {
  const table = document.getElementById("hotels");
  const body = document.getElementById("hotel-rows");
  if (!table || !body) return;
  const source = new EventSource(table.dataset.stream);
  source.addEventListener("rows", (e) => {
    // Server-rendered rows (askama escapes every value).
    body.innerHTML = e.data;
  });
}

function liveEvents() {
  const table = document.getElementById("events");
  const body = document.getElementById("event-rows");
  const status = document.getElementById("events-status");
  if (!table || !body) return;
  const source = new EventSource(table.dataset.stream);
  source.addEventListener("open", () => {
    if (status) status.textContent = "Live: new events appear at the top.";
  });
  source.addEventListener("error", () => {
    if (status) status.textContent = "Disconnected; retrying…";
  });
  source.addEventListener("lagged", (e) => {
    if (status) status.textContent = e.data;
  });
  source.addEventListener("change", (e) => {
    let ev;
    try { ev = JSON.parse(e.data); } catch (_) { return; }
    const row = document.createElement("tr");
    for (const key of ["id", "at", "hotel", "type", "about"]) {
      const cell = document.createElement("td");
      cell.textContent = String(ev[key] ?? "");
      row.appendChild(cell);
    }
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  liveHotels();
  liveEvents();
});
