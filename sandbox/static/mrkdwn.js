// Slack mrkdwn to DOM nodes. Every piece of text goes in with textContent / text nodes:
// nothing a person or the bot wrote is ever parsed as HTML.
"use strict";

const Mrkdwn = (() => {
  let ctx = { users: {}, channels: {}, tz: "UTC", now: new Date() };

  function setContext(next) { ctx = Object.assign(ctx, next); }

  // the emoji copbot writes; any other :name: stays as text, as Slack shows an unknown one
  const EMOJI = {
    warning: "⚠️", white_check_mark: "✅", movie_camera: "🎥", link: "🔗", calendar: "📆",
    zzz: "💤", white_circle: "⚪", seedling: "🌱", pushpin: "📌", memo: "📝",
    information_source: "ℹ️", hourglass: "⌛", compass: "🧭", busts_in_silhouette: "👥",
    bell: "🔔", arrows_counterclockwise: "🔄", alarm_clock: "⏰", tada: "🎉", wave: "👋",
    heavy_check_mark: "✔️", x: "❌", spiral_calendar_pad: "🗓️", date: "📅",
  };

  function decode(text) {
    // Slack escapes &, <, > as entities; shown as the characters they stand for
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

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
        if (/^&gt; ?/.test(line)) {
          into.appendChild(inline(line.replace(/^&gt; ?/, ""), el("blockquote")));
          return;
        }
        inline(line, into);
        if (j < lines.length - 1) into.appendChild(document.createElement("br"));
      });
    });
    return into;
  }

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

  return { render, plain, text, setContext, formatDate, el, safeHref, decode };
})();
