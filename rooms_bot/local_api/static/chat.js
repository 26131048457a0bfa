// The web chat page of the local Bot API server: plays one Telegram user in a private chat
// with the bot through the JSON endpoints under /_user/. Bot text is rendered from Telegram's
// entities with DOM nodes and textContent only, so nothing the bot sends becomes markup.
(() => {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const SVG_NS = "http://www.w3.org/2000/svg";
  const svg = (viewBox, d, className) => {
    const root = document.createElementNS(SVG_NS, "svg");
    root.setAttribute("viewBox", viewBox);
    if (className) root.setAttribute("class", className);
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "currentColor");
    root.appendChild(path);
    return root;
  };
  const CHECKS = "M5.2 10.1 1.5 6.4l1-1 2.7 2.7L10.6 2.7l1 1zm4 0-1-1 .9-.9 1 1zm.9-.9L15.5 3.7l1 1-6.4 6.4z";
  const ARROW = "M3 1h6v6H7.6V3.4L2 9 1 8l5.6-5.6H3z";

  // ---------------------------------------------------------------- who we are
  const query = new URLSearchParams(location.search);
  const stored = (key) => { try { return localStorage.getItem(key); } catch { return null; } };
  const store = (key, value) => { try { localStorage.setItem(key, value); } catch { /* private mode */ } };
  let userId = Number.parseInt(query.get("user") || stored("rooms-chat-user") || "", 10);
  if (!Number.isSafeInteger(userId) || userId <= 0) {
    userId = 100000000 + Math.floor(Math.random() * 899999999);
  }
  store("rooms-chat-user", String(userId));
  const firstName = query.get("name") || stored("rooms-chat-name-" + userId) || "Guest";
  store("rooms-chat-name-" + userId, firstName);
  const username = query.get("username") || undefined;
  const languageCode = (query.get("lang") || navigator.language || "en").slice(0, 2);

  const state = {
    after: 0,
    rows: new Map(), // message_id -> {row, message}
    pending: new Map(), // query_id -> button element
    bot: null,
    keyboard: null,
    keyboardOpen: true,
    typingTimer: null,
    online: true,
  };

  // ---------------------------------------------------------------- HTTP
  async function getJson(path) {
    const response = await fetch(path, { cache: "no-store" });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }
  async function postJson(path, payload) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }
  const sendText = (text) =>
    postJson("/_user/send", {
      user: userId, text, first_name: firstName, username, language_code: languageCode,
    }).catch((error) => toast("Not sent: " + error.message));

  // ---------------------------------------------------------------- formatting
  const SAFE_SCHEMES = new Set(["http:", "https:", "tg:", "mailto:", "tel:", "ton:"]);
  function safeUrl(raw, defaultScheme = "http://") {
    if (typeof raw !== "string" || !raw) return null;
    let candidate = raw.trim();
    if (!/^[a-z][a-z0-9+.-]*:/i.test(candidate)) candidate = defaultScheme + candidate;
    try {
      const url = new URL(candidate);
      return SAFE_SCHEMES.has(url.protocol) ? url.href : null;
    } catch {
      return null;
    }
  }

  function link(href, className) {
    const a = el("a", className);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  // One element for one entity; the entity's text goes inside it.
  function entityElement(entity, slice) {
    switch (entity.type) {
      case "bold": return el("strong");
      case "italic": return el("em");
      case "underline": return el("u");
      case "strikethrough": return el("s");
      case "spoiler": {
        const span = el("span", "spoiler");
        span.title = "Spoiler: click to reveal";
        span.addEventListener("click", () => span.classList.add("revealed"), { once: true });
        return span;
      }
      case "code": {
        const code = el("code");
        code.title = "Click to copy";
        code.addEventListener("click", () => copy(slice));
        return code;
      }
      case "pre": {
        const pre = el("pre");
        pre.title = "Click to copy";
        if (entity.language) pre.appendChild(el("span", "lang", entity.language));
        const code = el("code");
        pre.appendChild(code);
        pre.addEventListener("click", () => copy(slice));
        return { outer: pre, inner: code };
      }
      case "blockquote": return el("blockquote");
      case "expandable_blockquote": {
        const quote = el("blockquote", "expandable");
        quote.addEventListener("click", () => quote.classList.toggle("open"));
        return quote;
      }
      case "text_link": {
        const href = safeUrl(entity.url);
        if (!href) return el("span");
        const a = link(href);
        a.title = href;
        return a;
      }
      case "url": {
        const href = safeUrl(slice);
        return href ? link(href) : el("span");
      }
      case "email": {
        const href = safeUrl("mailto:" + slice);
        return href ? link(href) : el("span");
      }
      case "mention": {
        const href = safeUrl("https://t.me/" + slice.slice(1));
        return href ? link(href) : el("span", "link");
      }
      case "text_mention": return el("span", "link");
      case "hashtag":
      case "cashtag": return el("span", "link");
      case "bot_command": {
        const span = el("span", "command");
        span.title = "Send " + slice;
        span.addEventListener("click", () => sendText(slice));
        return span;
      }
      default: return el("span");
    }
  }

  // Entities (UTF-16 offsets, which JS strings use too) become a tree of DOM nodes; text is
  // only ever set through text nodes.
  function renderEntities(container, text, entities) {
    const sorted = (entities || [])
      .filter((e) => Number.isInteger(e.offset) && Number.isInteger(e.length) && e.length > 0)
      .slice()
      .sort((a, b) => a.offset - b.offset || b.length - a.length);
    const root = { start: 0, end: text.length, children: [] };
    const stack = [root];
    for (const entity of sorted) {
      const start = Math.max(0, entity.offset);
      while (stack.length > 1 && stack[stack.length - 1].end <= start) stack.pop();
      const parent = stack[stack.length - 1];
      const end = Math.min(entity.offset + entity.length, parent.end);
      if (end <= start || start < parent.start) continue;
      const node = { start, end, entity, children: [] };
      parent.children.push(node);
      stack.push(node);
    }
    const emit = (node, target) => {
      let position = node.start;
      for (const child of node.children) {
        if (child.start > position) target.appendChild(document.createTextNode(text.slice(position, child.start)));
        const made = entityElement(child.entity, text.slice(child.start, child.end));
        const outer = made.outer || made;
        emit(child, made.inner || made);
        target.appendChild(outer);
        position = child.end;
      }
      if (position < node.end) target.appendChild(document.createTextNode(text.slice(position, node.end)));
    };
    emit(root, container);
  }

  // ---------------------------------------------------------------- messages
  const chat = $("chat");
  const list = $("messages");
  const timeOf = (seconds) =>
    new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const dayOf = (seconds) => new Date(seconds * 1000).toDateString();
  function dayLabel(seconds) {
    const date = new Date(seconds * 1000);
    const today = new Date();
    if (date.toDateString() === today.toDateString()) return "Today";
    const yesterday = new Date(today.getTime() - 86400000);
    if (date.toDateString() === yesterday.toDateString()) return "Yesterday";
    return date.toLocaleDateString([], { month: "long", day: "numeric", year: date.getFullYear() === today.getFullYear() ? undefined : "numeric" });
  }

  function nearBottom() {
    return chat.scrollHeight - chat.scrollTop - chat.clientHeight < 120;
  }
  function scrollToBottom() {
    chat.scrollTop = chat.scrollHeight;
  }

  function buildBubble(message) {
    const bubble = el("div", "bubble");
    const visible = message.text ?? message.caption;
    if (message.photo_url) {
      const img = el("img", "photo");
      const src = message.photo_url.startsWith("/") ? message.photo_url : safeUrl(message.photo_url);
      if (src) img.src = src;
      img.alt = "Photo";
      img.loading = "lazy";
      img.addEventListener("load", () => { if (nearBottom()) scrollToBottom(); });
      bubble.appendChild(img);
      bubble.classList.add("has-photo");
      if (!visible) bubble.classList.add("photo-only");
    }
    const meta = el("span", "meta");
    if (message.edits > 0) meta.appendChild(el("span", "edited", "edited"));
    meta.appendChild(document.createTextNode(timeOf(message.date)));
    if (!message.from_bot) meta.appendChild(svg("0 0 17 11", CHECKS));
    if (visible) {
      const text = el("div", "text");
      renderEntities(text, visible, message.entities);
      text.appendChild(meta);
      bubble.appendChild(text);
    } else {
      bubble.appendChild(meta);
    }
    return bubble;
  }

  function buildKeyboard(message) {
    if (!message.buttons || message.buttons.length === 0) return null;
    const keyboard = el("div", "keyboard");
    for (const row of message.buttons) {
      const line = el("div", "kb-row");
      for (const button of row) {
        const b = el("button", "kb-btn", button.text);
        b.type = "button";
        const target = button.url || button.web_app_url;
        if (target) {
          b.appendChild(svg("0 0 10 10", ARROW, "corner"));
          b.title = target;
          b.addEventListener("click", () => {
            const href = safeUrl(target);
            if (!href) return;
            // A Mini App opens with the user's signed initData, as in Telegram.
            const open = button.web_app_url
              ? `/_user/webapp?user=${userId}&url=${encodeURIComponent(href)}`
              : href;
            window.open(open, "_blank", "noopener,noreferrer");
          });
        } else if (button.callback_data != null) {
          b.addEventListener("click", () => press(message.message_id, button.callback_data, b));
        } else if (button.kind === "copy_text") {
          b.addEventListener("click", () => toast("Copied"));
        } else {
          b.addEventListener("click", () => toast(`A ${button.kind.replace(/_/g, " ")} button`));
        }
        line.appendChild(b);
      }
      keyboard.appendChild(line);
    }
    return keyboard;
  }

  function fillRow(row, message) {
    row.replaceChildren();
    row.className = "row " + (message.from_bot ? "in" : "out");
    row.dataset.id = String(message.message_id);
    row.dataset.date = String(message.date);
    row.appendChild(buildBubble(message));
    const keyboard = buildKeyboard(message);
    if (keyboard) {
      row.appendChild(keyboard);
      row.classList.add("has-keyboard");
    }
  }

  // first/last of a run of messages from one side, and the date pills between days
  function regroup() {
    for (const pill of list.querySelectorAll(".date-pill")) pill.remove();
    const rows = [...list.querySelectorAll(".row:not(.removing)")];
    let previousDay = null;
    rows.forEach((row, index) => {
      const day = dayOf(Number(row.dataset.date));
      const newDay = day !== previousDay;
      if (newDay) {
        list.insertBefore(el("div", "date-pill", dayLabel(Number(row.dataset.date))), row);
        previousDay = day;
      }
      const side = row.classList.contains("in") ? "in" : "out";
      const before = rows[index - 1];
      const after = rows[index + 1];
      const sameBefore = before && !newDay && before.classList.contains(side) && !before.classList.contains("has-keyboard");
      const sameAfter = after && after.classList.contains(side) && dayOf(Number(after.dataset.date)) === day && !row.classList.contains("has-keyboard");
      row.classList.toggle("first", !sameBefore);
      row.classList.toggle("last", !sameAfter);
    });
    $("empty").hidden = rows.length > 0;
    if (rows.length === 0) $("empty").textContent = "No messages here yet…";
  }

  function addMessage(message) {
    if (state.rows.has(message.message_id)) return editMessage(message);
    const stick = nearBottom() || !message.from_bot;
    const row = el("div");
    fillRow(row, message);
    list.appendChild(row);
    state.rows.set(message.message_id, { row, message });
    if (message.from_bot) {
      stopTyping();
      if (message.reply_keyboard) setReplyKeyboard(message.reply_keyboard);
      else if (message.removes_reply_keyboard) setReplyKeyboard(null);
    }
    regroup();
    if (stick) scrollToBottom();
  }

  function editMessage(message) {
    const known = state.rows.get(message.message_id);
    if (!known) return addMessage(message);
    const stick = nearBottom();
    fillRow(known.row, message);
    known.message = message;
    regroup();
    const bubble = known.row.querySelector(".bubble");
    if (bubble) bubble.classList.add("flash");
    if (stick) scrollToBottom();
  }

  function deleteMessage(messageId) {
    const known = state.rows.get(messageId);
    if (!known) return;
    state.rows.delete(messageId);
    known.row.classList.add("removing");
    setTimeout(() => { known.row.remove(); regroup(); }, 200);
  }

  // ---------------------------------------------------------------- buttons and answers
  async function press(messageId, data, button) {
    if (button.classList.contains("loading")) return;
    button.classList.add("loading");
    try {
      const { query_id: queryId } = await postJson("/_user/press", { user: userId, message_id: messageId, callback_data: data });
      state.pending.set(queryId, button);
      // Telegram stops the spinner after a while even when the bot never answers.
      setTimeout(() => {
        if (state.pending.get(queryId) === button) {
          state.pending.delete(queryId);
          button.classList.remove("loading");
        }
      }, 15000);
    } catch (error) {
      button.classList.remove("loading");
      toast(error.message);
    }
  }

  function answered(event) {
    const button = state.pending.get(event.query_id);
    if (button) {
      button.classList.remove("loading");
      state.pending.delete(event.query_id);
    }
    if (!event.text) return;
    if (event.show_alert) alertBox(state.bot ? state.bot.first_name : "Bot", event.text);
    else toast(event.text);
  }

  let toastTimer = null;
  function toast(text) {
    const box = $("toast");
    box.textContent = text;
    box.hidden = false;
    box.style.animation = "none";
    void box.offsetWidth;
    box.style.animation = "";
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, Math.min(6000, 1800 + text.length * 40));
  }

  function alertBox(title, text) {
    $("alert-title").textContent = title;
    $("alert-text").textContent = text;
    $("alert").hidden = false;
    $("alert-ok").focus();
  }
  $("alert-ok").addEventListener("click", () => { $("alert").hidden = true; $("input").focus(); });
  $("alert").addEventListener("click", (event) => { if (event.target === $("alert")) $("alert").hidden = true; });

  function copy(text) {
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(() => toast("Copied to clipboard"), () => {});
  }

  // ---------------------------------------------------------------- typing
  function setStatus(text, active) {
    const status = $("bot-status");
    status.textContent = text;
    status.classList.toggle("active", Boolean(active));
  }
  function idleStatus() {
    setStatus(state.online ? "bot" : "connecting…", false);
  }
  const ACTIONS = {
    typing: "typing", upload_photo: "sending a photo", record_video: "recording a video",
    upload_video: "sending a video", record_voice: "recording a voice message",
    upload_voice: "sending a voice message", upload_document: "sending a file",
    choose_sticker: "choosing a sticker", find_location: "choosing a location",
    record_video_note: "recording a video message", upload_video_note: "sending a video message",
  };
  function typing(action) {
    setStatus((ACTIONS[action] || action) + "…", true);
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(idleStatus, 5000);
  }
  function stopTyping() {
    clearTimeout(state.typingTimer);
    idleStatus();
  }

  // ---------------------------------------------------------------- reply keyboard and menu
  function setReplyKeyboard(keyboard) {
    state.keyboard = keyboard;
    state.keyboardOpen = Boolean(keyboard);
    drawReplyKeyboard();
  }
  function drawReplyKeyboard() {
    const box = $("reply-keyboard");
    const toggle = $("kb-toggle");
    const keyboard = state.keyboard;
    toggle.hidden = !keyboard;
    toggle.classList.toggle("on", state.keyboardOpen);
    box.replaceChildren();
    box.hidden = !keyboard || !state.keyboardOpen;
    $("input").placeholder = (keyboard && keyboard.placeholder) || "Message";
    if (!keyboard) return;
    box.classList.toggle("resize", Boolean(keyboard.resize));
    for (const row of keyboard.rows) {
      const line = el("div", "rk-row");
      for (const text of row) {
        const b = el("button", "", text);
        b.type = "button";
        b.addEventListener("click", () => {
          sendText(text);
          if (keyboard.one_time) { state.keyboardOpen = false; drawReplyKeyboard(); }
        });
        line.appendChild(b);
      }
      box.appendChild(line);
    }
  }
  $("kb-toggle").addEventListener("click", () => {
    state.keyboardOpen = !state.keyboardOpen;
    drawReplyKeyboard();
  });

  function drawCommands(commands) {
    const menu = $("commands");
    menu.replaceChildren();
    $("menu-btn").hidden = commands.length === 0;
    for (const command of commands) {
      const item = el("button", "command-item");
      item.type = "button";
      item.setAttribute("role", "menuitem");
      item.appendChild(el("b", "", "/" + command.command));
      item.appendChild(el("span", "", command.description));
      item.addEventListener("click", () => {
        menu.hidden = true;
        sendText("/" + command.command);
      });
      menu.appendChild(item);
    }
  }
  $("menu-btn").addEventListener("click", async (event) => {
    event.stopPropagation();
    const menu = $("commands");
    if (!menu.hidden) { menu.hidden = true; return; }
    try { drawCommands((await getJson("/_user/info?user=" + userId)).commands); } catch { /* keep */ }
    menu.hidden = $("menu-btn").hidden;
  });
  document.addEventListener("click", (event) => {
    if (!$("commands").contains(event.target)) $("commands").hidden = true;
  });

  // ---------------------------------------------------------------- composer
  const input = $("input");
  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 180) + "px";
  }
  input.addEventListener("input", autosize);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    autosize();
    sendText(text.slice(0, 4096));
    input.focus();
  });

  chat.addEventListener("scroll", () => { $("scroll-down").hidden = nearBottom(); });
  $("scroll-down").addEventListener("click", scrollToBottom);

  // ---------------------------------------------------------------- the feed
  function apply(event) {
    state.after = Math.max(state.after, event.seq);
    switch (event.kind) {
      case "message": addMessage(event.message); break;
      case "edit": editMessage(event.message); break;
      case "delete": deleteMessage(event.message_id); break;
      case "answer": answered(event); break;
      case "action": typing(event.action); break;
      default: break; // "press": nothing shows in Telegram either
    }
  }

  async function poll() {
    for (;;) {
      try {
        const { events } = await getJson(`/_user/feed?user=${userId}&after=${state.after}&timeout=25`);
        if (!state.online) { state.online = true; idleStatus(); }
        for (const event of events) apply(event);
      } catch {
        state.online = false;
        idleStatus();
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  async function main() {
    $("me").textContent = `${firstName} · ${userId}`;
    let info;
    try {
      info = await getJson("/_user/info?user=" + userId);
    } catch (error) {
      $("empty").textContent = "The local Bot API server does not answer: " + error.message;
      return;
    }
    state.bot = info.bot;
    const name = info.bot.first_name || info.bot.username;
    $("bot-name").textContent = name;
    $("bot-avatar").textContent = (name || "B").trim().charAt(0).toUpperCase();
    document.title = `${name} · Telegram (local)`;
    drawCommands(info.commands || []);
    if (info.reply_keyboard) setReplyKeyboard(info.reply_keyboard);
    const { events } = await getJson(`/_user/feed?user=${userId}&after=0&timeout=0`);
    events.forEach(apply);
    regroup();
    scrollToBottom();
    if (!info.user && events.length === 0) await sendText("/start");
    input.focus();
    poll();
  }

  main();
})();
