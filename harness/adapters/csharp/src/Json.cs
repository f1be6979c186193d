// A small JSON reader and writer.  Mono 6.8 as packaged by Debian
// (mono-runtime, mono-mcs) ships neither System.Json nor
// System.Runtime.Serialization, and the adapter must run on exactly those
// packages, so it carries its own.  Values map to: null, bool, long (integral
// numbers that fit), double (every other number), string,
// List<object> (array), Dictionary<string, object> (object).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Apmsock.CSharp
{
    sealed class JsonException : Exception
    {
        public JsonException (string message) : base (message) { }
    }

    static class Json
    {
        // Nesting deeper than this is refused: no request needs it, and a
        // hostile line must not overflow the stack.
        const int MaxDepth = 64;

        public static object Parse (string text)
        {
            int pos = 0;
            object v = ParseValue (text, ref pos, 0);
            SkipSpace (text, ref pos);
            if (pos != text.Length)
                throw new JsonException ("trailing characters at offset " + pos);
            return v;
        }

        static void SkipSpace (string s, ref int pos)
        {
            while (pos < s.Length && (s [pos] == ' ' || s [pos] == '\t' || s [pos] == '\r' || s [pos] == '\n'))
                pos++;
        }

        static object ParseValue (string s, ref int pos, int depth)
        {
            if (depth > MaxDepth)
                throw new JsonException ("nesting deeper than " + MaxDepth);
            SkipSpace (s, ref pos);
            if (pos >= s.Length)
                throw new JsonException ("unexpected end of input");
            char c = s [pos];
            switch (c) {
            case '{': return ParseObject (s, ref pos, depth);
            case '[': return ParseArray (s, ref pos, depth);
            case '"': return ParseString (s, ref pos);
            case 't': Literal (s, ref pos, "true"); return true;
            case 'f': Literal (s, ref pos, "false"); return false;
            case 'n': Literal (s, ref pos, "null"); return null;
            default:
                if (c == '-' || (c >= '0' && c <= '9'))
                    return ParseNumber (s, ref pos);
                throw new JsonException ("unexpected character '" + c + "' at offset " + pos);
            }
        }

        static void Literal (string s, ref int pos, string word)
        {
            if (string.CompareOrdinal (s, pos, word, 0, word.Length) != 0)
                throw new JsonException ("invalid literal at offset " + pos);
            pos += word.Length;
        }

        static Dictionary<string, object> ParseObject (string s, ref int pos, int depth)
        {
            var obj = new Dictionary<string, object> (StringComparer.Ordinal);
            pos++; // '{'
            SkipSpace (s, ref pos);
            if (pos < s.Length && s [pos] == '}') {
                pos++;
                return obj;
            }
            for (;;) {
                SkipSpace (s, ref pos);
                if (pos >= s.Length || s [pos] != '"')
                    throw new JsonException ("expected a member name at offset " + pos);
                string key = ParseString (s, ref pos);
                SkipSpace (s, ref pos);
                if (pos >= s.Length || s [pos] != ':')
                    throw new JsonException ("expected ':' at offset " + pos);
                pos++;
                object v = ParseValue (s, ref pos, depth + 1);
                if (obj.ContainsKey (key))
                    throw new JsonException ("duplicate member \"" + key + "\"");
                obj [key] = v;
                SkipSpace (s, ref pos);
                if (pos >= s.Length)
                    throw new JsonException ("unterminated object");
                if (s [pos] == ',') { pos++; continue; }
                if (s [pos] == '}') { pos++; return obj; }
                throw new JsonException ("expected ',' or '}' at offset " + pos);
            }
        }

        static List<object> ParseArray (string s, ref int pos, int depth)
        {
            var list = new List<object> ();
            pos++; // '['
            SkipSpace (s, ref pos);
            if (pos < s.Length && s [pos] == ']') {
                pos++;
                return list;
            }
            for (;;) {
                list.Add (ParseValue (s, ref pos, depth + 1));
                SkipSpace (s, ref pos);
                if (pos >= s.Length)
                    throw new JsonException ("unterminated array");
                if (s [pos] == ',') { pos++; continue; }
                if (s [pos] == ']') { pos++; return list; }
                throw new JsonException ("expected ',' or ']' at offset " + pos);
            }
        }

        static string ParseString (string s, ref int pos)
        {
            var sb = new StringBuilder ();
            pos++; // opening quote
            while (pos < s.Length) {
                char c = s [pos++];
                if (c == '"')
                    return sb.ToString ();
                if (c < 0x20)
                    throw new JsonException ("control character in string at offset " + (pos - 1));
                if (c != '\\') {
                    sb.Append (c);
                    continue;
                }
                if (pos >= s.Length)
                    break;
                char e = s [pos++];
                switch (e) {
                case '"': sb.Append ('"'); break;
                case '\\': sb.Append ('\\'); break;
                case '/': sb.Append ('/'); break;
                case 'b': sb.Append ('\b'); break;
                case 'f': sb.Append ('\f'); break;
                case 'n': sb.Append ('\n'); break;
                case 'r': sb.Append ('\r'); break;
                case 't': sb.Append ('\t'); break;
                case 'u':
                    if (pos + 4 > s.Length)
                        throw new JsonException ("short \\u escape");
                    int code;
                    if (!int.TryParse (s.Substring (pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out code))
                        throw new JsonException ("bad \\u escape at offset " + pos);
                    sb.Append ((char) code);
                    pos += 4;
                    break;
                default:
                    throw new JsonException ("bad escape '\\" + e + "' at offset " + (pos - 1));
                }
            }
            throw new JsonException ("unterminated string");
        }

        static object ParseNumber (string s, ref int pos)
        {
            int start = pos;
            if (s [pos] == '-')
                pos++;
            if (pos >= s.Length || !char.IsDigit (s [pos]))
                throw new JsonException ("bad number at offset " + start);
            if (s [pos] == '0' && pos + 1 < s.Length && s [pos + 1] >= '0' && s [pos + 1] <= '9')
                throw new JsonException ("leading zero at offset " + start);
            while (pos < s.Length && s [pos] >= '0' && s [pos] <= '9')
                pos++;
            bool integral = true;
            if (pos < s.Length && s [pos] == '.') {
                integral = false;
                pos++;
                if (pos >= s.Length || !(s [pos] >= '0' && s [pos] <= '9'))
                    throw new JsonException ("bad fraction at offset " + start);
                while (pos < s.Length && s [pos] >= '0' && s [pos] <= '9')
                    pos++;
            }
            if (pos < s.Length && (s [pos] == 'e' || s [pos] == 'E')) {
                integral = false;
                pos++;
                if (pos < s.Length && (s [pos] == '+' || s [pos] == '-'))
                    pos++;
                if (pos >= s.Length || !(s [pos] >= '0' && s [pos] <= '9'))
                    throw new JsonException ("bad exponent at offset " + start);
                while (pos < s.Length && s [pos] >= '0' && s [pos] <= '9')
                    pos++;
            }
            string text = s.Substring (start, pos - start);
            long l;
            if (integral && long.TryParse (text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out l))
                return l;
            return double.Parse (text, NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        // ---- writer ----

        public static string Write (object v)
        {
            var sb = new StringBuilder ();
            WriteValue (sb, v);
            return sb.ToString ();
        }

        static void WriteValue (StringBuilder sb, object v)
        {
            if (v == null) { sb.Append ("null"); return; }
            if (v is bool) { sb.Append ((bool) v ? "true" : "false"); return; }
            if (v is string) { WriteString (sb, (string) v); return; }
            if (v is int || v is long || v is short || v is byte || v is uint) {
                sb.Append (Convert.ToInt64 (v).ToString (CultureInfo.InvariantCulture));
                return;
            }
            if (v is double) {
                double d = (double) v;
                if (double.IsNaN (d) || double.IsInfinity (d))
                    sb.Append ("null");
                else
                    sb.Append (d.ToString ("R", CultureInfo.InvariantCulture));
                return;
            }
            var dict = v as IDictionary<string, object>;
            if (dict != null) {
                sb.Append ('{');
                bool first = true;
                foreach (var kv in dict) {
                    if (!first) sb.Append (',');
                    first = false;
                    WriteString (sb, kv.Key);
                    sb.Append (':');
                    WriteValue (sb, kv.Value);
                }
                sb.Append ('}');
                return;
            }
            var list = v as System.Collections.IEnumerable;
            if (list != null) {
                sb.Append ('[');
                bool first = true;
                foreach (object item in list) {
                    if (!first) sb.Append (',');
                    first = false;
                    WriteValue (sb, item);
                }
                sb.Append (']');
                return;
            }
            throw new ArgumentException ("cannot write a " + v.GetType () + " as JSON");
        }

        // Everything outside printable ASCII is escaped, so a reply is one
        // line of ASCII whatever the exception messages contain.
        static void WriteString (StringBuilder sb, string s)
        {
            sb.Append ('"');
            foreach (char c in s) {
                switch (c) {
                case '"': sb.Append ("\\\""); break;
                case '\\': sb.Append ("\\\\"); break;
                case '\n': sb.Append ("\\n"); break;
                case '\r': sb.Append ("\\r"); break;
                case '\t': sb.Append ("\\t"); break;
                default:
                    if (c < 0x20 || c > 0x7e)
                        sb.Append ("\\u").Append (((int) c).ToString ("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append (c);
                    break;
                }
            }
            sb.Append ('"');
        }
    }
}
