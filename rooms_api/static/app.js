// ROOMS Mini App: active rooms with live pools (WebSocket /ws), a room's price chart, and
// the user's open bets. Plain JavaScript, no build step, nothing loaded from elsewhere.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const WINDOW_MS = 60 * 60 * 1000; // the price chart's span
  const state = {
    initData: readInitData(),
    rooms: new Map(), // id -> room (as the API gives it)
    versions: new Map(), // id -> last version seen
    detail: null, // { room, prices: [{at, value}] } while a room is open
    socket: null,
    retry: 500,
  };

  // --- Telegram: initData and theme --------------------------------------------------
  // Inside Telegram the Mini App's launch parameters arrive in the URL fragment
  // (#tgWebAppData=...&tgWebAppThemeParams=...); telegram-web-app.js, when a page loads
  // it, exposes the same initData as Telegram.WebApp.initData.
  function launchParams() {
    return new URLSearchParams(window.location.hash.slice(1));
  }

  function readInitData() {
    const webApp = window.Telegram && window.Telegram.WebApp;
    if (webApp && webApp.initData) return webApp.initData;
    return launchParams().get("tgWebAppData") || "";
  }

  function applyTheme() {
    let theme = null;
    try {
      theme = JSON.parse(launchParams().get("tgWebAppThemeParams") || "null");
    } catch (e) {
      theme = null;
    }
    if (!theme) return;
    const root = document.documentElement.style;
    const set = (name, value) => value && root.setProperty(name, value);
    set("--tg-bg", theme.secondary_bg_color || theme.bg_color);
    set("--tg-card", theme.section_bg_color || theme.bg_color);
    set("--tg-text", theme.text_color);
    set("--tg-hint", theme.hint_color);
    set("--tg-accent", theme.button_color);
  }

  // --- the API -----------------------------------------------------------------------
  async function api(path) {
    const headers = state.initData ? { Authorization: "tma " + state.initData } : {};
    const answer = await fetch(path, { headers });
    const body = await answer.json().catch(() => ({}));
    if (!answer.ok) {
      const error = new Error(body.message || answer.statusText);
      error.status = answer.status;
      error.name = body.error || "HttpError";
      throw error;
    }
    return body;
  }

  function showError(message) {
    const box = $("error");
    box.textContent = message;
    box.hidden = false;
    clearTimeout(showError.timer);
    showError.timer = setTimeout(() => (box.hidden = true), 5000);
  }

  // --- formatting --------------------------------------------------------------------
  const sol = (amount) => amount.sol + " SOL";
  const multiple = (m) => (m === null ? "–" : "×" + Number(m).toFixed(2));
  function until(iso) {
    const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
    if (seconds <= 0) return "now";
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    return h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
  }
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // --- room cards ----------------------------------------------------------------------
  function roomCard(room) {
    const card = el("article", "card room");
    card.dataset.roomId = room.id;
    const top = el("div", "top");
    top.append(el("h3", "title", room.title), el("span", "badge " + room.state, room.state));
    const bar = el("div", "pools");
    const yes = el("div", "yes");
    const no = el("div", "no");
    bar.append(yes, no);
    const sides = el("div", "sides");
    const yesSide = el("div", "side yes");
    yesSide.append(el("span", "yes-label", "YES"), el("b", "yes-pool"), el("span", "mult yes-mult"));
    const noSide = el("div", "side no");
    noSide.append(el("span", "no-label", "NO"), el("b", "no-pool"), el("span", "mult no-mult"));
    sides.append(yesSide, noSide);
    const meta = el("div", "meta");
    meta.append(el("span", "bettors"), el("span", "clock"));
    card.append(top, el("div", "question"), bar, sides, meta);
    card.addEventListener("click", () => openRoom(room.id));
    fillCard(card, room);
    return card;
  }

  function fillCard(card, room) {
    const q = (selector) => card.querySelector(selector);
    q(".title").textContent = room.title;
    const badge = q(".badge");
    badge.className = "badge " + room.state;
    badge.textContent = room.state;
    q(".question").textContent = `${room.asset.id} ${room.comparator} ${room.target} by ${new Date(
      room.settle_at
    ).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
    const total = room.total_pool.lamports;
    const yesShare = total ? (room.yes_pool.lamports / total) * 100 : 50;
    q(".pools .yes").style.width = yesShare + "%";
    q(".pools .no").style.width = 100 - yesShare + "%";
    q(".yes-pool").textContent = sol(room.yes_pool);
    q(".no-pool").textContent = sol(room.no_pool);
    q(".yes-mult").textContent = multiple(room.yes_multiple);
    q(".no-mult").textContent = multiple(room.no_multiple);
    const bettors = room.yes_bets + room.no_bets;
    q(".bettors").textContent = `${bettors} bettor${bettors === 1 ? "" : "s"} · ${sol(room.total_pool)}`;
    q(".clock").dataset.lockAt = room.lock_at;
    q(".clock").dataset.state = room.state;
    tickClock(q(".clock"));
  }

  function tickClock(node) {
    const bettable = node.dataset.state === "QUEUING" || node.dataset.state === "OPEN";
    node.textContent = bettable ? "locks in " + until(node.dataset.lockAt) : "";
  }

  function renderRooms() {
    const list = $("rooms");
    list.replaceChildren(...[...state.rooms.values()].map(roomCard));
    $("rooms-empty").hidden = state.rooms.size > 0;
  }

  function updateRoom(room, version) {
    const seen = state.versions.get(room.id) || 0;
    if (version <= seen) return; // an older state than the one shown
    state.versions.set(room.id, version);
    state.rooms.set(room.id, room);
    const card = document.querySelector(`#rooms [data-room-id="${room.id}"]`);
    if (card) {
      fillCard(card, room);
      if (seen) {
        // A change (not the first state this page sees): draw the eye to it.
        card.classList.remove("flash");
        void card.offsetWidth; // restart the animation
        card.classList.add("flash");
      }
    }
    if (state.detail && state.detail.room.id === room.id) {
      state.detail.room = room;
      renderDetailCard();
    }
    if (document.querySelector(`#bets [data-room-id="${room.id}"]`)) scheduleBets();
  }

  async function loadRooms() {
    const page = await api("/api/rooms?per_page=50");
    state.rooms = new Map(page.rooms.map((r) => [r.id, r]));
    renderRooms();
    subscribe([...state.rooms.keys()]);
  }

  // --- live updates -------------------------------------------------------------------
  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}/ws`);
    state.socket = socket;
    socket.addEventListener("open", () => {
      state.retry = 500;
      $("live").classList.add("on");
      subscribe([...state.rooms.keys()]);
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "room") updateRoom(message.room, message.version);
      else if (message.type === "price") onPrice(message);
    });
    socket.addEventListener("close", () => {
      $("live").classList.remove("on");
      setTimeout(connect, state.retry);
      state.retry = Math.min(state.retry * 2, 10000);
    });
  }

  function subscribe(ids) {
    const socket = state.socket;
    if (ids.length && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "subscribe", rooms: ids }));
    }
  }

  function onPrice(message) {
    const detail = state.detail;
    if (!detail || detail.room.asset.key !== message.asset) return;
    const last = detail.prices[detail.prices.length - 1];
    if (last && last.at === message.at) return;
    detail.prices.push({ at: message.at, value: message.value });
    drawChart();
  }

  // --- a room's page with its chart ----------------------------------------------------
  async function openRoom(id) {
    try {
      const room = await api(`/api/rooms/${id}?minutes=60`);
      state.detail = { room, prices: room.prices, since: room.prices_since };
      $("tab-rooms").hidden = true;
      $("tab-bets").hidden = true;
      $("detail").hidden = false;
      renderDetailCard();
      drawChart();
      subscribe([id]);
    } catch (error) {
      showError(error.message);
    }
  }

  function closeRoom() {
    state.detail = null;
    $("detail").hidden = true;
    showTab(document.querySelector(".tab.active").dataset.tab);
  }

  function renderDetailCard() {
    const card = roomCard(state.detail.room);
    card.classList.add("detail");
    $("detail-card").replaceChildren(card);
  }

  function drawChart() {
    const { room, prices, since } = state.detail;
    const svg = $("chart");
    const W = 320;
    const H = 160;
    const pad = 12;
    $("chart-asset").textContent = `${room.asset.id} · target ${room.comparator} ${room.target}`;
    $("chart-from").textContent = new Date(since).toLocaleTimeString([], {
      hour: "2-digit",
      minute: "2-digit",
    });
    const ns = "http://www.w3.org/2000/svg";
    svg.replaceChildren();
    const target = Number(room.target);
    const values = prices.map((p) => Number(p.value));
    $("chart-price").textContent = values.length ? "$" + values[values.length - 1] : "no price yet";
    if (!values.length) return;
    let lo = Math.min(...values, target);
    let hi = Math.max(...values, target);
    if (hi === lo) {
      hi += 1;
      lo -= 1;
    }
    const t0 = new Date(since).getTime();
    // The window ends at the server's "now" (since + 60 min), not the phone's clock.
    const t1 = Math.max(t0 + WINDOW_MS, new Date(prices[prices.length - 1].at).getTime());
    const x = (at) => pad + ((new Date(at).getTime() - t0) / (t1 - t0)) * (W - 2 * pad);
    const y = (v) => H - pad - ((v - lo) / (hi - lo)) * (H - 2 * pad);
    const points = prices.map((p) => `${x(p.at).toFixed(1)},${y(Number(p.value)).toFixed(1)}`);
    const area = document.createElementNS(ns, "path");
    area.setAttribute("class", "area");
    area.setAttribute(
      "d",
      `M${points[0].split(",")[0]},${H - pad} L${points.join(" L")} L${
        points[points.length - 1].split(",")[0]
      },${H - pad} Z`
    );
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("class", "line");
    line.setAttribute("points", points.join(" "));
    const goal = document.createElementNS(ns, "line");
    goal.setAttribute("class", "target");
    goal.setAttribute("x1", pad);
    goal.setAttribute("x2", W - pad);
    goal.setAttribute("y1", y(target));
    goal.setAttribute("y2", y(target));
    const label = (value, at) => {
      const text = document.createElementNS(ns, "text");
      text.setAttribute("x", pad);
      text.setAttribute("y", at);
      text.textContent = "$" + Number(value.toPrecision(6));
      return text;
    };
    svg.append(area, line, goal, label(hi, pad + 8), label(lo, H - pad - 2));
  }

  // --- my bets --------------------------------------------------------------------------
  async function loadBets() {
    if (!state.initData) {
      $("bets-signin").hidden = false;
      return;
    }
    try {
      const bets = await api("/api/me/bets?active=true&limit=50");
      $("bets").replaceChildren(...bets.map(betCard));
      $("bets-empty").hidden = bets.length > 0;
    } catch (error) {
      if (error.status === 403) $("bets-signin").hidden = false;
      else showError(error.message);
    }
  }

  function scheduleBets() {
    clearTimeout(scheduleBets.timer);
    scheduleBets.timer = setTimeout(loadBets, 300);
  }

  function betCard(bet) {
    const card = el("article", "card bet");
    card.dataset.roomId = bet.room_id;
    const top = el("div", "top");
    top.append(el("h3", "", bet.room_title), el("span", "badge " + bet.room_state, bet.room_state));
    const sides = el("div", "sides");
    const left = el("div", "side");
    left.append(el("span", "pick " + bet.side, bet.side), el("b", "stake", sol(bet.stake)));
    const right = el("div", "side no");
    right.append(
      el("span", "mult", "if it wins"),
      el("b", "payout", bet.quote ? sol(bet.quote.payout_if_win) : "–")
    );
    sides.append(left, right);
    card.append(top, sides);
    card.addEventListener("click", () => openRoom(bet.room_id));
    return card;
  }

  async function loadMe() {
    if (!state.initData) return;
    try {
      const me = await api("/api/me");
      $("balance").textContent = sol(me.balance);
      $("account").hidden = false;
    } catch (error) {
      if (error.status !== 403) showError(error.message);
    }
  }

  // --- tabs and start -------------------------------------------------------------------
  function showTab(name) {
    for (const tab of document.querySelectorAll(".tab")) {
      tab.classList.toggle("active", tab.dataset.tab === name);
    }
    $("tab-rooms").hidden = name !== "rooms";
    $("tab-bets").hidden = name !== "bets";
    if (name === "bets") loadBets();
  }

  function start() {
    applyTheme();
    const webApp = window.Telegram && window.Telegram.WebApp;
    if (webApp && webApp.ready) webApp.ready();
    for (const tab of document.querySelectorAll(".tab")) {
      tab.addEventListener("click", () => {
        if (state.detail) closeRoom();
        showTab(tab.dataset.tab);
      });
    }
    $("back").addEventListener("click", closeRoom);
    setInterval(() => document.querySelectorAll(".clock").forEach(tickClock), 1000);
    loadRooms().catch((error) => showError(error.message)).then(connect);
    loadMe();
    loadBets();
  }

  start();
})();
