// Slack mrkdwn to DOM nodes. Every piece of text goes in with textContent / text nodes:
// nothing a person or the bot wrote is ever parsed as HTML.
"use strict";

const Mrkdwn = (() => {
  let ctx = { users: {}, channels: {}, tz: "UTC", now: new Date() };

  function setContext(next) { ctx = Object.assign(ctx, next); }

  // Emoji shortcodes as Slack shows them: every one copbot writes (a test checks the
  // table against bot/), and a few common ones; an unknown :name: stays as text, as Slack
  // shows a name it does not know. Drawn with the system's colour emoji font
  // (fonts-noto-color-emoji on Debian; .ci/run installs it).
  const EMOJI = {
    alarm_clock: "⏰", arrows_counterclockwise: "🔄", bar_chart: "📊", bell: "🔔", books: "📚",
    busts_in_silhouette: "👥", calendar: "📆", checkered_flag: "🏁", compass: "🧭", date: "📅",
    hourglass: "⌛", inbox_tray: "📥", information_source: "ℹ️", link: "🔗", lock: "🔒",
    mega: "📣", memo: "📝", movie_camera: "🎥", page_facing_up: "📄", pencil2: "✏️",
    pushpin: "📌", round_pushpin: "📍", seedling: "🌱", wastebasket: "🗑️", warning: "⚠️",
    white_check_mark: "✅", white_circle: "⚪", x: "❌", zzz: "💤",
    heavy_check_mark: "✔️", spiral_calendar_pad: "🗓️", tada: "🎉", wave: "👋", eyes: "👀",
    thumbsup: "👍", "+1": "👍", raised_hands: "🙌", bulb: "💡", rocket: "🚀", star: "⭐",
    sparkles: "✨", clipboard: "📋", speech_balloon: "💬", email: "📧", envelope: "✉️",
    clock1: "🕐", hourglass_flowing_sand: "⏳", no_entry: "⛔", heart: "❤️", smile: "😄",
  };

  function decode(text) {
    // Slack escapes &, <, > as entities; shown as the characters they stand for
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function zone() { return ctx.tz; }

  function emoji(text) {
    return text.replace(/:([a-z0-9_+-]+):/g, (m, name) => EMOJI[name] || m);
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function safeHref(url) {
    return /^(https?:|mailto:)/i.test(url) ? url : null;
  }

  function ordinal(n) {
    const s = ["th", "st", "nd", "rd"], v = n % 100;
    return n + (s[(v - 20) % 10] || s[v] || s[0]);
  }

  function parts(date, tz) {
    const f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz, year: "numeric", month: "long", day: "numeric", weekday: "long",
      hour: "numeric", minute: "2-digit", second: "2-digit", hour12: true,
    }).formatToParts(date);
    const out = {};
    f.forEach((p) => { out[p.type] = p.value; });
    return out;
  }

  function dayKey(date, tz) {
    return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
  }

  // <!date^1700000000^{date_long_pretty} at {time}|fallback> in the viewer's zone
  function formatDate(seconds, format, tz) {
    const date = new Date(seconds * 1000);
    const p = parts(date, tz);
    const monthShort = p.month.slice(0, 3);
    const d = {
      date_num: dayKey(date, tz),
      date: `${p.month} ${ordinal(+p.day)}, ${p.year}`,
      date_short: `${monthShort} ${+p.day}, ${p.year}`,
      date_long: `${p.weekday}, ${p.month} ${ordinal(+p.day)}, ${p.year}`,
      time: `${p.hour}:${p.minute} ${p.dayPeriod}`,
      time_secs: `${p.hour}:${p.minute}:${p.second} ${p.dayPeriod}`,
    };
    const today = dayKey(ctx.now, tz);
    const one = 86400000;
    const rel = { [today]: "today", [dayKey(new Date(ctx.now.getTime() + one), tz)]: "tomorrow",
      [dayKey(new Date(ctx.now.getTime() - one), tz)]: "yesterday" }[d.date_num];
    d.date_pretty = rel ? cap(rel) : d.date;
    d.date_short_pretty = rel ? cap(rel) : d.date_short;
    d.date_long_pretty = rel ? cap(rel) : d.date_long;
    return format.replace(/\{(\w+)\}/g, (m, k) => (k in d ? d[k] : m));
  }

  function cap(s) { return s.charAt(0).toUpperCase() + s.slice(1); }

  function entity(inner) {
    const [target, label] = splitLabel(inner);
    if (target.startsWith("@")) {
      const id = target.slice(1);
      const user = ctx.users[id];
      return el("span", "mention", "@" + (user ? user.name : label || id));
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      const ch = ctx.channels[id];
      return el("span", "mention channel", "#" + (ch ? ch.name : label || id));
    }
    if (target.startsWith("!date^")) {
      const [, seconds, format] = target.split("^");
      const node = el("time", "date", formatDate(+seconds, format || "{date}", ctx.tz));
      node.title = label ? decode(label) : "";
      return node;
    }
    if (target.startsWith("!")) {
      const word = target.slice(1).split("^")[0];
      return el("span", "mention broadcast", "@" + (label || word));
    }
    const href = safeHref(decode(target));
    if (!href) return document.createTextNode(decode(label || target));
    const a = el("a", "link", decode(label || target));
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  function splitLabel(inner) {
    const bar = inner.indexOf("|");
    return bar < 0 ? [inner, ""] : [inner.slice(0, bar), inner.slice(bar + 1)];
  }

  const INLINE = /(<[^<>\n]+>)|(`[^`\n]+`)|(\*[^*\n]+\*)|(\b_[^_\n]+_\b)|(~[^~\n]+~)/;

  function inline(text, into) {
    let rest = text;
    while (rest.length) {
      const m = INLINE.exec(rest);
      if (!m) { into.appendChild(document.createTextNode(emoji(decode(rest)))); break; }
      if (m.index) into.appendChild(document.createTextNode(emoji(decode(rest.slice(0, m.index)))));
      const tok = m[0];
      if (m[1]) into.appendChild(entity(tok.slice(1, -1)));
      else if (m[2]) into.appendChild(el("code", null, decode(tok.slice(1, -1))));
      else {
        const tag = m[3] ? "strong" : m[4] ? "em" : "s";
        const node = el(tag);
        inline(tok.slice(1, -1), node);
        into.appendChild(node);
      }
      rest = rest.slice(m.index + tok.length);
    }
    return into;
  }

  function render(text, into) {
    into = into || el("div", "mrkdwn");
    const chunks = String(text || "").split("```");
    chunks.forEach((chunk, i) => {
      if (i % 2 === 1) { into.appendChild(el("pre", null, decode(chunk.replace(/^\n/, "")))); return; }
      const lines = chunk.split("\n");
      lines.forEach((line, j) => {
        const quote = /^(?:&gt;|>) ?/;
        if (quote.test(line)) {
          into.appendChild(inline(line.replace(quote, ""), el("blockquote")));
          return;
        }
        inline(line, into);
        if (j < lines.length - 1) into.appendChild(document.createElement("br"));
      });
    });
    return into;
  }

  // A wall-clock time in a zone to and from UNIX seconds, for the datetimepicker (Slack's
  // client shows it in the person's own zone).
  const Zones = {
    offset(ms, tz) {
      const p = {};
      new Intl.DateTimeFormat("en-US", {
        timeZone: tz, year: "numeric", month: "numeric", day: "numeric",
        hour: "numeric", minute: "numeric", second: "numeric", hourCycle: "h23",
      }).formatToParts(new Date(ms)).forEach((x) => { p[x.type] = +x.value; });
      const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second);
      return wall - Math.floor(ms / 1000) * 1000;
    },
    toLocalInput(seconds, tz) {
      const local = new Date(seconds * 1000 + this.offset(seconds * 1000, tz));
      return local.toISOString().slice(0, 16);
    },
    fromLocalInput(text, tz) {
      const wall = Date.parse(text + ":00Z");
      let guess = wall - this.offset(wall, tz);
      guess = wall - this.offset(guess, tz);
      return Math.floor(guess / 1000);
    },
  };

  function plain(text, into) {
    into = into || el("span");
    into.textContent = decode(String(text || ""));
    return into;
  }

  // a text object: mrkdwn or plain_text
  function text(obj, into) {
    if (!obj) return into || el("span");
    return obj.type === "mrkdwn" ? render(obj.text, into) : plain(obj.text, into);
  }

  return { render, plain, text, setContext, formatDate, el, safeHref, decode, emoji, zone, Zones };
})();
