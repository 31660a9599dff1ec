// The console's live updates: one EventSource on /stream; no polling, no library.
// Lane fields are set by textContent (never as HTML); queue cards come rendered (and
// escaped) by the server and are added or removed by id, so a reason being typed into
// one card's form is never wiped by an update of another.
"use strict";

function setFields(lanes) {
  for (const [lane, fields] of Object.entries(lanes)) {
    const card = document.querySelector(`.lane[data-lane="${CSS.escape(lane)}"]`);
    if (!card) continue;
    for (const [name, text] of Object.entries(fields)) {
      for (const el of card.querySelectorAll(`[data-field="${name}"]`)) {
        el.textContent = text;
        el.dataset.value = text;
      }
    }
  }
}

function syncCards(container, items, attribute) {
  if (!container) return;
  const wanted = new Map(items.map((item) => [item.id, item.html]));
  for (const card of container.querySelectorAll(`[${attribute}]`)) {
    const id = card.getAttribute(attribute);
    if (!wanted.has(id)) card.remove();
    else if (!card.contains(document.activeElement)) {
      const fresh = document.createElement("template");
      fresh.innerHTML = wanted.get(id);
      const waiting = fresh.content.querySelector(".waiting");
      const shown = card.querySelector(".waiting");
      if (waiting && shown) shown.textContent = waiting.textContent;
    }
    wanted.delete(id);
  }
  for (const html of wanted.values()) {
    const fresh = document.createElement("template");
    fresh.innerHTML = html;
    container.append(fresh.content);
  }
}

function showStatus(status) {
  const live = document.getElementById("live");
  if (status.error) {
    live.textContent = "controller unreachable";
    live.dataset.value = "down";
    return;
  }
  live.textContent = "live";
  live.dataset.value = "up";
  setFields(status.lanes || {});
  syncCards(document.getElementById("held"), status.held || [], "data-held");
  // an approach card is keyed by its vehicle and what it asks of the officer, so a new
  // vehicle (or one now to confirm) replaces the card and its forms, never keeps them
  syncCards(document.getElementById("approaches"), status.approaches || [], "data-card");
  const empty = document.getElementById("held-empty");
  if (empty) empty.hidden = (status.held || []).length > 0;
  const noApproach = document.getElementById("approaches-empty");
  if (noApproach) noApproach.hidden = (status.approaches || []).length > 0;
  const count = document.getElementById("queue-count");
  if (count) count.textContent = (status.held || []).length ? `(${status.held.length})` : "";
}

function showEvent(event) {
  const list = document.getElementById("events");
  const history = document.getElementById("history");
  const detail = Object.entries(event)
    .filter(([k]) => k !== "lane" && k !== "type")
    .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`)
    .join(", ");
  if (list) {
    const item = document.createElement("li");
    item.textContent = `${new Date().toLocaleTimeString()} ${event.lane || ""} ${event.type} ${detail}`;
    list.prepend(item);
    while (list.children.length > 50) list.lastElementChild.remove();
  }
  if (history && history.dataset.lane === event.lane) {
    const row = history.tBodies[0].insertRow(0);
    row.insertCell().textContent = event.type;
    row.insertCell().textContent = detail;
  }
}

window.addEventListener("DOMContentLoaded", () => {
  if (!document.getElementById("live")) return;  // the sign-in page
  const source = new EventSource("/stream");
  source.addEventListener("status", (e) => showStatus(JSON.parse(e.data)));
  source.addEventListener("lane-event", (e) => showEvent(JSON.parse(e.data)));
  source.addEventListener("expired", () => {
    source.close();
    window.location.assign("/login");
  });
  source.onerror = () => {
    const live = document.getElementById("live");
    live.textContent = "reconnecting";
    live.dataset.value = "down";
  };
});
