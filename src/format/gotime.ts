/**
 * Dates as Go's time.Time: String(), Format(layout) with Go's reference-time layouts
 * ("2006-01-02 15:04:05.999999999 -0700 MST"), and the methods templates use
 * (`{{.Created.Format "2006-01-02"}}`, `{{.StartedAt.Unix}}`, `{{.Created.UTC}}`).
 * Times print in local time unless they came through `.UTC`.
 */

/** A Date that formats in UTC (what `.UTC` returns). */
export class UTCDate extends Date {}

const LONG_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

interface Parts {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  weekday: number;
  yday: number;
  offsetMin: number; // east of UTC
  zone: string;
}

function parts(d: Date): Parts {
  const utc = d instanceof UTCDate;
  const year = utc ? d.getUTCFullYear() : d.getFullYear();
  const month = (utc ? d.getUTCMonth() : d.getMonth()) + 1;
  const day = utc ? d.getUTCDate() : d.getDate();
  const startOfYear = Date.UTC(year, 0, 1);
  const yday = Math.floor((Date.UTC(year, month - 1, day) - startOfYear) / 86_400_000) + 1;
  const offsetMin = utc ? 0 : -d.getTimezoneOffset();
  return {
    year,
    month,
    day,
    hour: utc ? d.getUTCHours() : d.getHours(),
    minute: utc ? d.getUTCMinutes() : d.getMinutes(),
    second: utc ? d.getUTCSeconds() : d.getSeconds(),
    ms: utc ? d.getUTCMilliseconds() : d.getMilliseconds(),
    weekday: utc ? d.getUTCDay() : d.getDay(),
    yday,
    offsetMin,
    zone: utc ? 'UTC' : zoneName(d, offsetMin),
  };
}

function offsetText(offsetMin: number, colon: boolean, seconds: boolean, hoursOnly = false): string {
  const sign = offsetMin < 0 ? '-' : '+';
  const a = Math.abs(offsetMin);
  const hh = String(Math.floor(a / 60)).padStart(2, '0');
  const mm = String(a % 60).padStart(2, '0');
  if (hoursOnly) return sign + hh;
  const sep = colon ? ':' : '';
  return sign + hh + sep + mm + (seconds ? sep + '00' : '');
}

let formatters: { tz: string | undefined; list: Intl.DateTimeFormat[] } | undefined;

function zoneFormatters(): Intl.DateTimeFormat[] {
  const tz = process.env.TZ;
  if (!formatters || formatters.tz !== tz) {
    formatters = { tz, list: ['en-US', 'en-GB', 'en-IN', 'en-AU'].map((l) => new Intl.DateTimeFormat(l, { timeZoneName: 'short' })) };
  }
  return formatters.list;
}

function zoneName(d: Date, offsetMin: number): string {
  if (offsetMin === 0 && (process.env.TZ === undefined || process.env.TZ === '' || /^(UTC|Etc\/UTC|GMT|UTC0)$/.test(process.env.TZ))) return 'UTC';
  // Go reads abbreviations from tzdata; Intl has them per locale, so ask a few English ones.
  for (const f of zoneFormatters()) {
    try {
      const name = f.formatToParts(d).find((p) => p.type === 'timeZoneName')?.value;
      if (name && /^[A-Z]{2,5}$/.test(name)) return name;
    } catch {
      // no Intl time zone data
    }
  }
  // Go prints the offset when a zone has no abbreviation
  return offsetMin % 60 === 0 ? offsetText(offsetMin, false, false, true) : offsetText(offsetMin, false, false);
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

const TOKEN_RE = /January|Jan|Monday|Mon|MST|2006|002|0[1-6]|15|__2|_2|[1-5]|PM|pm|-070000|-07:00:00|-0700|-07:00|-07|Z070000|Z07:00:00|Z0700|Z07:00|Z07|[.,](?:0+|9+)(?!\d)/g;

/** time.Time.Format with a Go layout. */
export function goFormatTime(d: Date, layout: string): string {
  if (Number.isNaN(d.getTime())) return '<invalid time>';
  const p = parts(d);
  return layout.replace(TOKEN_RE, (tok) => {
    switch (tok) {
      case 'January': return LONG_MONTHS[p.month - 1]!;
      case 'Jan': return LONG_MONTHS[p.month - 1]!.slice(0, 3);
      case 'Monday': return LONG_DAYS[p.weekday]!;
      case 'Mon': return LONG_DAYS[p.weekday]!.slice(0, 3);
      case 'MST': return p.zone;
      case '2006': return pad(p.year, 4);
      case '002': return pad(p.yday, 3);
      case '01': return pad(p.month);
      case '02': return pad(p.day);
      case '03': return pad(p.hour % 12 === 0 ? 12 : p.hour % 12);
      case '04': return pad(p.minute);
      case '05': return pad(p.second);
      case '06': return pad(p.year % 100);
      case '15': return pad(p.hour);
      case '__2': return String(p.yday).padStart(3, ' ');
      case '_2': return String(p.day).padStart(2, ' ');
      case '1': return String(p.month);
      case '2': return String(p.day);
      case '3': return String(p.hour % 12 === 0 ? 12 : p.hour % 12);
      case '4': return String(p.minute);
      case '5': return String(p.second);
      case 'PM': return p.hour >= 12 ? 'PM' : 'AM';
      case 'pm': return p.hour >= 12 ? 'pm' : 'am';
      case '-070000': return offsetText(p.offsetMin, false, true);
      case '-07:00:00': return offsetText(p.offsetMin, true, true);
      case '-0700': return offsetText(p.offsetMin, false, false);
      case '-07:00': return offsetText(p.offsetMin, true, false);
      case '-07': return offsetText(p.offsetMin, false, false, true);
      case 'Z070000': case 'Z07:00:00': case 'Z0700': case 'Z07:00': case 'Z07':
        if (p.offsetMin === 0) return 'Z';
        return tok === 'Z07' ? offsetText(p.offsetMin, false, false, true)
          : offsetText(p.offsetMin, tok.includes(':'), tok.length > 6 && tok !== 'Z07:00');
      default: {
        // fractional seconds: .000 keeps zeros, .999 trims them (and the dot if nothing is left)
        const digits = tok.length - 1;
        const frac = (pad(p.ms, 3) + '000000').slice(0, digits);
        if (tok[1] === '0') return tok[0] + frac;
        const trimmed = frac.replace(/0+$/, '');
        return trimmed === '' ? '' : tok[0] + trimmed;
      }
    }
  });
}

/** time.Time.String(). */
export function goTimeString(d: Date): string {
  return goFormatTime(d, '2006-01-02 15:04:05.999999999 -0700 MST');
}

/** Methods of time.Time available to templates, by Go name. */
export function timeMethod(d: Date, name: string): ((...args: unknown[]) => unknown) | undefined {
  const p = () => parts(d);
  switch (name) {
    case 'Unix': return () => Math.floor(d.getTime() / 1000);
    case 'UnixMilli': return () => d.getTime();
    case 'UnixMicro': return () => d.getTime() * 1000;
    case 'UnixNano': return () => BigInt(d.getTime()) * 1_000_000n;
    case 'Format': return (layout: unknown) => goFormatTime(d, String(layout));
    case 'String': return () => goTimeString(d);
    case 'UTC': return () => new UTCDate(d.getTime());
    case 'Local': return () => new Date(d.getTime());
    case 'IsZero': return () => d.getTime() === Date.UTC(1, 0, 1) || d.getTime() === -62135596800000;
    case 'Year': return () => p().year;
    case 'Month': return () => LONG_MONTHS[p().month - 1];
    case 'Day': return () => p().day;
    case 'Hour': return () => p().hour;
    case 'Minute': return () => p().minute;
    case 'Second': return () => p().second;
    case 'Weekday': return () => LONG_DAYS[p().weekday];
    case 'YearDay': return () => p().yday;
    default: return undefined;
  }
}
