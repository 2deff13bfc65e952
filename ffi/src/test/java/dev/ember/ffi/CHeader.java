package dev.ember.ffi;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough of a C preprocessor and declaration parser to read the prototypes of CUDA's
 * C headers and say how wide each argument is, so the bindings' descriptors can be checked
 * against them without a compiler.
 *
 * <p>What it does: strips comments, evaluates {@code #if}/{@code #ifdef}/{@code #elif}/{@code
 * #else} with a fixed set of predefined macros (Linux, x86-64, GCC, C not C++), keeps object-
 * and function-like {@code #define}s and expands them in active code (so {@code cuMemAlloc}
 * becomes {@code cuMemAlloc_v2} exactly as a compiler would see it), collects typedefs, and
 * parses every prototype. Declarations inside cuda.h's
 * {@code #if defined(__CUDA_API_VERSION_INTERNAL)} block, which declare the older exported
 * symbols under their own names, are kept apart as "legacy" prototypes for fallback symbols.
 */
final class CHeader {

    /** What an argument or return value is, as far as the C calling convention cares. */
    enum Kind {
        VOID(0, false), INT8(1, false), INT16(2, false), INT32(4, false), INT64(8, false),
        POINTER(8, false), FLOAT(4, true), DOUBLE(8, true), STRUCT(-1, false), UNKNOWN(-1, false);

        final int bytes;
        final boolean floating;

        Kind(int bytes, boolean floating) {
            this.bytes = bytes;
            this.floating = floating;
        }
    }

    /** One parameter: its C text and what it resolves to. */
    record Param(String text, Kind kind) {
    }

    /** One prototype after macro expansion. */
    record Prototype(String name, String returnText, Kind returnKind, List<Param> params, boolean legacy) {
    }

    /** A #define: params is null for an object-like macro. */
    private record Macro(String name, List<String> params, String body) {
    }

    /** Linux x86-64 with GCC, compiling C: what nvcc's host compiler would predefine here. */
    static final Map<String, Long> LINUX_X86_64_GCC = Map.of(
            "__GNUC__", 13L, "__GNUC_MINOR__", 0L, "__linux__", 1L, "__x86_64__", 1L, "__LP64__", 1L,
            "__STDC__", 1L, "__STDC_VERSION__", 201710L);

    private static final Set<String> QUALIFIERS = Set.of("const", "volatile", "restrict", "__restrict",
            "__restrict__", "extern", "static", "inline", "__inline", "__inline__", "register");
    private static final Set<String> TYPE_WORDS = Set.of("void", "char", "short", "int", "long", "float", "double",
            "signed", "unsigned", "_Bool", "bool");
    private static final Map<String, Kind> BUILTINS = new HashMap<>();

    static {
        BUILTINS.put("void", Kind.VOID);
        for (String t : List.of("char", "signed char", "unsigned char", "bool", "_Bool", "int8_t", "uint8_t")) {
            BUILTINS.put(t, Kind.INT8);
        }
        for (String t : List.of("short", "short int", "signed short", "unsigned short", "unsigned short int",
                "int16_t", "uint16_t")) {
            BUILTINS.put(t, Kind.INT16);
        }
        for (String t : List.of("int", "signed", "signed int", "unsigned", "unsigned int", "int32_t", "uint32_t")) {
            BUILTINS.put(t, Kind.INT32);
        }
        for (String t : List.of("long", "long int", "signed long", "unsigned long", "unsigned long int",
                "long long", "long long int", "signed long long", "unsigned long long", "unsigned long long int",
                "int64_t", "uint64_t", "size_t", "ssize_t", "ptrdiff_t", "intptr_t", "uintptr_t")) {
            BUILTINS.put(t, Kind.INT64);
        }
        BUILTINS.put("float", Kind.FLOAT);
        BUILTINS.put("double", Kind.DOUBLE);
    }

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final Map<String, Long> predefined;
    private final Map<String, Macro> macros = new HashMap<>();
    private final Map<String, String> typedefs = new HashMap<>();
    private final Map<String, Prototype> prototypes = new LinkedHashMap<>();
    private final Map<String, Prototype> legacyPrototypes = new LinkedHashMap<>();

    private CHeader(Map<String, Long> predefined) {
        this.predefined = predefined;
    }

    /** Parses the files in order, as if each included the ones before it. */
    static CHeader parse(List<Path> files, Map<String, Long> predefined) throws IOException {
        CHeader header = new CHeader(predefined);
        for (Path file : files) {
            header.add(Files.readString(file, StandardCharsets.ISO_8859_1));
        }
        return header;
    }

    /** Parses C text (for tests of the parser itself). */
    static CHeader parseText(String text, Map<String, Long> predefined) {
        CHeader header = new CHeader(predefined);
        header.add(text);
        return header;
    }

    /** The prototype of an exported symbol: the public declaration, else a legacy one. */
    Optional<Prototype> prototype(String symbol) {
        Prototype p = prototypes.get(symbol);
        return Optional.ofNullable(p != null ? p : legacyPrototypes.get(symbol));
    }

    /** Whether a name is a macro in the final state (for example cuMemAlloc, which becomes cuMemAlloc_v2). */
    boolean isMacro(String name) {
        return macros.containsKey(name);
    }

    /** Number of prototypes found (public ones). */
    int prototypeCount() {
        return prototypes.size();
    }

    // ------------------------------------------------------------------ preprocessing

    private static final class Frame {
        final boolean parentActive;
        final boolean parentLegacy;
        boolean taken;
        boolean legacyTaken;
        boolean active;
        boolean legacy;

        Frame(boolean parentActive, boolean parentLegacy) {
            this.parentActive = parentActive;
            this.parentLegacy = parentLegacy;
        }
    }

    private void add(String raw) {
        String text = stripComments(raw).replace("\r\n", "\n").replace("\\\n", " ");
        StringBuilder publicText = new StringBuilder();
        StringBuilder legacyText = new StringBuilder();
        Deque<Frame> stack = new ArrayDeque<>();
        for (String line : text.split("\n", -1)) {
            boolean active = stack.isEmpty() || stack.peek().active;
            boolean legacy = stack.isEmpty() || stack.peek().legacy;
            String trimmed = line.strip();
            if (trimmed.startsWith("#")) {
                directive(trimmed.substring(1).strip(), stack, active, legacy);
                continue;
            }
            if (active) {
                publicText.append(expand(line, Set.of(), false)).append('\n');
            } else if (legacy) {
                legacyText.append(expand(line, Set.of(), true)).append('\n');
            }
        }
        collect(removeAttributes(publicText.toString()), false);
        collect(removeAttributes(legacyText.toString()), true);
    }

    private void directive(String body, Deque<Frame> stack, boolean active, boolean legacy) {
        Matcher m = IDENTIFIER.matcher(body);
        if (!m.lookingAt()) {
            return;
        }
        String word = m.group();
        String rest = body.substring(m.end()).strip();
        switch (word) {
            case "if", "ifdef", "ifndef" -> {
                // Conditions are evaluated even in skipped regions: the legacy view may need them.
                boolean condition = switch (word) {
                    case "ifdef" -> isDefined(firstIdentifier(rest));
                    case "ifndef" -> !isDefined(firstIdentifier(rest));
                    default -> evaluate(rest) != 0;
                };
                // cuda.h's block of older symbols: read it as "legacy" though it is not compiled.
                boolean internalBlock = word.equals("if")
                        && rest.replace(" ", "").equals("defined(__CUDA_API_VERSION_INTERNAL)");
                Frame f = new Frame(active, legacy);
                f.taken = condition;
                f.active = active && condition;
                f.legacyTaken = condition || internalBlock;
                f.legacy = legacy && f.legacyTaken;
                stack.push(f);
            }
            case "elif" -> {
                Frame f = stack.peek();
                if (f == null) {
                    return;
                }
                boolean condition = evaluate(rest) != 0;
                f.active = f.parentActive && !f.taken && condition;
                f.taken |= condition;
                f.legacy = f.parentLegacy && !f.legacyTaken && condition;
                f.legacyTaken |= condition;
            }
            case "else" -> {
                Frame f = stack.peek();
                if (f == null) {
                    return;
                }
                f.active = f.parentActive && !f.taken;
                f.taken = true;
                f.legacy = f.parentLegacy && !f.legacyTaken;
                f.legacyTaken = true;
            }
            case "endif" -> {
                if (!stack.isEmpty()) {
                    stack.pop();
                }
            }
            case "define" -> {
                if (active) {
                    define(rest);
                }
            }
            case "undef" -> {
                if (active) {
                    macros.remove(firstIdentifier(rest));
                }
            }
            default -> {
                // #include, #error, #pragma, #line: nothing to do for declarations.
            }
        }
    }

    private void define(String rest) {
        Matcher m = IDENTIFIER.matcher(rest);
        if (!m.lookingAt()) {
            return;
        }
        String name = m.group();
        String after = rest.substring(m.end());
        if (after.startsWith("(")) {
            int close = after.indexOf(')');
            if (close < 0) {
                return;
            }
            List<String> params = new ArrayList<>();
            for (String p : after.substring(1, close).split(",")) {
                if (!p.isBlank()) {
                    params.add(p.strip());
                }
            }
            macros.put(name, new Macro(name, params, after.substring(close + 1).strip()));
        } else {
            macros.put(name, new Macro(name, null, after.strip()));
        }
    }

    private boolean isDefined(String name) {
        return macros.containsKey(name) || predefined.containsKey(name);
    }

    private static String firstIdentifier(String text) {
        Matcher m = IDENTIFIER.matcher(text.strip());
        return m.lookingAt() ? m.group() : "";
    }

    /**
     * Expands macros in one line. In legacy mode only decoration macros (empty, or attributes)
     * expand, so the older symbols keep the names they are declared under.
     */
    private String expand(String line, Set<String> hidden, boolean decorationsOnly) {
        StringBuilder out = new StringBuilder();
        Matcher m = IDENTIFIER.matcher(line);
        int pos = 0;
        while (m.find(pos)) {
            if (m.start() > 0 && Character.isDigit(line.charAt(m.start() - 1))) {
                out.append(line, pos, m.end());
                pos = m.end();
                continue;
            }
            out.append(line, pos, m.start());
            String name = m.group();
            pos = m.end();
            Macro macro = macros.get(name);
            if (macro == null || hidden.contains(name) || (decorationsOnly && !isDecoration(macro))) {
                out.append(name);
                continue;
            }
            Set<String> inner = new HashSet<>(hidden);
            inner.add(name);
            if (macro.params() == null) {
                out.append(expand(macro.body(), inner, decorationsOnly));
                continue;
            }
            int open = skipSpaces(line, pos);
            if (open >= line.length() || line.charAt(open) != '(') {
                out.append(name);
                continue;
            }
            int close = matchingParen(line, open);
            if (close < 0) {
                out.append(name);
                continue;
            }
            List<String> args = splitTopLevel(line.substring(open + 1, close), ',');
            String body = macro.body();
            for (int i = 0; i < macro.params().size() && i < args.size(); i++) {
                body = body.replaceAll("\\b" + Pattern.quote(macro.params().get(i)) + "\\b",
                        Matcher.quoteReplacement(args.get(i).strip()));
            }
            body = body.replaceAll("\\s*##\\s*", "");
            out.append(expand(body, inner, decorationsOnly));
            pos = close + 1;
        }
        out.append(line.substring(Math.min(pos, line.length())));
        return out.toString();
    }

    private static boolean isDecoration(Macro macro) {
        String body = macro.body().strip();
        return macro.params() == null && (body.isEmpty() || body.startsWith("__attribute__")
                || body.startsWith("__declspec"));
    }

    // ------------------------------------------------------------------ #if expressions

    private long evaluate(String expression) {
        return new ExpressionParser(tokenize(expression)).parse();
    }

    private static List<String> tokenize(String text) {
        List<String> tokens = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (Character.isLetter(c) || c == '_') {
                int j = i;
                while (j < text.length() && (Character.isLetterOrDigit(text.charAt(j)) || text.charAt(j) == '_')) {
                    j++;
                }
                tokens.add(text.substring(i, j));
                i = j;
            } else if (Character.isDigit(c)) {
                int j = i;
                while (j < text.length() && (Character.isLetterOrDigit(text.charAt(j)) || text.charAt(j) == '.')) {
                    j++;
                }
                tokens.add(text.substring(i, j));
                i = j;
            } else {
                String two = i + 1 < text.length() ? text.substring(i, i + 2) : "";
                if (List.of("&&", "||", "==", "!=", ">=", "<=", "<<", ">>").contains(two)) {
                    tokens.add(two);
                    i += 2;
                } else {
                    tokens.add(String.valueOf(c));
                    i++;
                }
            }
        }
        return tokens;
    }

    /** Recursive descent over C's #if operators; unknown identifiers are 0, as in C. */
    private final class ExpressionParser {
        private final List<String> tokens;
        private int pos;
        private final int depth;

        ExpressionParser(List<String> tokens) {
            this(tokens, 0);
        }

        ExpressionParser(List<String> tokens, int depth) {
            this.tokens = tokens;
            this.depth = depth;
        }

        long parse() {
            if (tokens.isEmpty()) {
                return 0;
            }
            return ternary();
        }

        private String peek() {
            return pos < tokens.size() ? tokens.get(pos) : "";
        }

        private boolean accept(String token) {
            if (peek().equals(token)) {
                pos++;
                return true;
            }
            return false;
        }

        private long ternary() {
            long c = or();
            if (accept("?")) {
                long a = ternary();
                accept(":");
                long b = ternary();
                return c != 0 ? a : b;
            }
            return c;
        }

        private long or() {
            long v = and();
            while (accept("||")) {
                long r = and();
                v = (v != 0 || r != 0) ? 1 : 0;
            }
            return v;
        }

        private long and() {
            long v = bitOr();
            while (accept("&&")) {
                long r = bitOr();
                v = (v != 0 && r != 0) ? 1 : 0;
            }
            return v;
        }

        private long bitOr() {
            long v = bitXor();
            while (peek().equals("|")) {
                pos++;
                v |= bitXor();
            }
            return v;
        }

        private long bitXor() {
            long v = bitAnd();
            while (accept("^")) {
                v ^= bitAnd();
            }
            return v;
        }

        private long bitAnd() {
            long v = equality();
            while (peek().equals("&")) {
                pos++;
                v &= equality();
            }
            return v;
        }

        private long equality() {
            long v = relational();
            while (true) {
                if (accept("==")) {
                    v = v == relational() ? 1 : 0;
                } else if (accept("!=")) {
                    v = v != relational() ? 1 : 0;
                } else {
                    return v;
                }
            }
        }

        private long relational() {
            long v = shift();
            while (true) {
                if (accept("<")) {
                    v = v < shift() ? 1 : 0;
                } else if (accept(">")) {
                    v = v > shift() ? 1 : 0;
                } else if (accept("<=")) {
                    v = v <= shift() ? 1 : 0;
                } else if (accept(">=")) {
                    v = v >= shift() ? 1 : 0;
                } else {
                    return v;
                }
            }
        }

        private long shift() {
            long v = additive();
            while (true) {
                if (accept("<<")) {
                    v <<= additive();
                } else if (accept(">>")) {
                    v >>= additive();
                } else {
                    return v;
                }
            }
        }

        private long additive() {
            long v = multiplicative();
            while (true) {
                if (accept("+")) {
                    v += multiplicative();
                } else if (accept("-")) {
                    v -= multiplicative();
                } else {
                    return v;
                }
            }
        }

        private long multiplicative() {
            long v = unary();
            while (true) {
                if (accept("*")) {
                    v *= unary();
                } else if (accept("/")) {
                    long d = unary();
                    v = d == 0 ? 0 : v / d;
                } else if (accept("%")) {
                    long d = unary();
                    v = d == 0 ? 0 : v % d;
                } else {
                    return v;
                }
            }
        }

        private long unary() {
            if (accept("!")) {
                return unary() == 0 ? 1 : 0;
            }
            if (accept("-")) {
                return -unary();
            }
            if (accept("+")) {
                return unary();
            }
            if (accept("~")) {
                return ~unary();
            }
            return primary();
        }

        private long primary() {
            String t = peek();
            if (t.isEmpty()) {
                return 0;
            }
            pos++;
            if (t.equals("(")) {
                long v = ternary();
                accept(")");
                return v;
            }
            if (t.equals("defined")) {
                boolean paren = accept("(");
                String name = peek();
                pos++;
                if (paren) {
                    accept(")");
                }
                return isDefined(name) ? 1 : 0;
            }
            if (Character.isDigit(t.charAt(0))) {
                return parseNumber(t);
            }
            if (Character.isLetter(t.charAt(0)) || t.charAt(0) == '_') {
                if (peek().equals("(")) {
                    // A function-like macro we do not evaluate (for example __has_include): 0.
                    skipParens();
                    return 0;
                }
                Macro macro = macros.get(t);
                if (macro != null && macro.params() == null && depth < 16) {
                    return new ExpressionParser(tokenize(macro.body()), depth + 1).parse();
                }
                return predefined.getOrDefault(t, 0L);
            }
            return 0;
        }

        private void skipParens() {
            int level = 0;
            while (pos < tokens.size()) {
                String t = tokens.get(pos++);
                if (t.equals("(")) {
                    level++;
                } else if (t.equals(")") && --level == 0) {
                    return;
                }
            }
        }
    }

    private static long parseNumber(String token) {
        String t = token.replaceAll("[uUlL]+$", "");
        try {
            if (t.startsWith("0x") || t.startsWith("0X")) {
                return Long.parseLong(t.substring(2), 16);
            }
            if (t.length() > 1 && t.startsWith("0")) {
                return Long.parseLong(t.substring(1), 8);
            }
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    // ------------------------------------------------------------------ declarations

    /** Walks the text statement by statement, collecting typedefs and prototypes. */
    private void collect(String text, boolean legacy) {
        int depth = 0;
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '{') {
                depth++;
            } else if (c == '}') {
                if (depth == 0) {
                    start = i + 1; // the end of an extern "C" block or similar
                } else {
                    depth--;
                }
            } else if (c == ';' && depth == 0) {
                statement(text.substring(start, i).strip(), legacy);
                start = i + 1;
            }
        }
    }

    private void statement(String s, boolean legacy) {
        if (s.isEmpty()) {
            return;
        }
        if (startsWithWord(s, "typedef")) {
            typedef(s.substring("typedef".length()).strip()); // first definition wins
            return;
        }
        int open = s.indexOf('(');
        if (open < 0 || s.indexOf('{') >= 0 || s.indexOf('=') >= 0) {
            return;
        }
        String before = s.substring(0, open).strip();
        Matcher name = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)$").matcher(before);
        if (!name.find()) {
            return;
        }
        String function = name.group(1);
        if (QUALIFIERS.contains(function) || TYPE_WORDS.contains(function)) {
            return;
        }
        int close = matchingParen(s, open);
        if (close < 0 || !s.substring(close + 1).isBlank()) {
            return;
        }
        String returnText = before.substring(0, name.start()).strip();
        if (returnText.isEmpty()) {
            return; // a call or macro use, not a declaration
        }
        List<Param> params = new ArrayList<>();
        String paramText = s.substring(open + 1, close).strip();
        if (!paramText.isEmpty() && !paramText.equals("void")) {
            for (String p : splitTopLevel(paramText, ',')) {
                params.add(new Param(p.strip(), paramKind(p.strip())));
            }
        }
        Prototype prototype = new Prototype(function, returnText, typeKind(declarationType(returnText)),
                List.copyOf(params), legacy);
        (legacy ? legacyPrototypes : prototypes).putIfAbsent(function, prototype);
    }

    private void typedef(String body) {
        String flat = removeBraces(body).strip();
        int paren = flat.indexOf('(');
        if (paren >= 0) {
            // A function pointer type: typedef ret (CALLCONV *Name)(params)
            int close = matchingParen(flat, paren);
            if (close < 0) {
                return;
            }
            Matcher m = IDENTIFIER.matcher(flat.substring(paren + 1, close));
            String last = null;
            while (m.find()) {
                last = m.group();
            }
            if (last != null) {
                typedefs.putIfAbsent(last, "*");
            }
            return;
        }
        String declarator = flat.replaceAll("\\[[^\\]]*\\]", "").strip();
        Matcher m = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)\\s*$").matcher(declarator);
        if (!m.find()) {
            return;
        }
        String name = m.group(1);
        String type = declarator.substring(0, m.start()).strip();
        if (flat.contains("[")) {
            type = "struct array";
        }
        if (!type.isEmpty()) {
            typedefs.putIfAbsent(name, type);
        }
    }

    /** The return type text with declaration decorations (ALL_CAPS macros nobody defined, like CUBLASAPI) removed. */
    private String declarationType(String returnText) {
        StringBuilder sb = new StringBuilder();
        Matcher m = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*|\\*").matcher(returnText);
        while (m.find()) {
            String token = m.group();
            boolean decoration = token.matches("[A-Z][A-Z0-9_]*") && !typedefs.containsKey(token);
            if (!decoration) {
                sb.append(token).append(' ');
            }
        }
        return sb.toString().strip();
    }

    private Kind paramKind(String param) {
        if (param.contains("[") || param.contains("(") || param.contains("*")) {
            return Kind.POINTER;
        }
        List<String> words = new ArrayList<>();
        Matcher m = IDENTIFIER.matcher(param);
        while (m.find()) {
            String w = m.group();
            if (!QUALIFIERS.contains(w) && !w.startsWith("__")) {
                words.add(w);
            }
        }
        if (words.size() >= 2 && !TYPE_WORDS.contains(words.get(words.size() - 1))) {
            words.remove(words.size() - 1); // the parameter's name
        }
        return typeKind(String.join(" ", words));
    }

    /** Resolves a type's text through typedefs to what the calling convention sees. */
    Kind typeKind(String type) {
        return typeKind(type, 0);
    }

    private Kind typeKind(String type, int depth) {
        if (depth > 32) {
            return Kind.UNKNOWN;
        }
        if (type.contains("*")) {
            return Kind.POINTER;
        }
        List<String> words = new ArrayList<>();
        Matcher m = IDENTIFIER.matcher(type);
        while (m.find()) {
            String w = m.group();
            if (!QUALIFIERS.contains(w) && !w.startsWith("__")) {
                words.add(w);
            }
        }
        if (words.isEmpty()) {
            return Kind.UNKNOWN;
        }
        String first = words.get(0);
        if (first.equals("enum")) {
            return Kind.INT32;
        }
        if (first.equals("struct") || first.equals("union")) {
            return Kind.STRUCT;
        }
        String joined = String.join(" ", words);
        Kind builtin = BUILTINS.get(joined);
        if (builtin != null) {
            return builtin;
        }
        if (words.size() == 1 && typedefs.containsKey(first)) {
            return typeKind(typedefs.get(first), depth + 1);
        }
        return Kind.UNKNOWN;
    }

    // ------------------------------------------------------------------ text helpers

    private static String stripComments(String text) {
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '/' && i + 1 < text.length() && text.charAt(i + 1) == '*') {
                int end = text.indexOf("*/", i + 2);
                end = end < 0 ? text.length() : end + 2;
                for (int k = i; k < end; k++) {
                    if (text.charAt(k) == '\n') {
                        out.append('\n');
                    }
                }
                out.append(' ');
                i = end;
            } else if (c == '/' && i + 1 < text.length() && text.charAt(i + 1) == '/') {
                int end = text.indexOf('\n', i);
                i = end < 0 ? text.length() : end;
            } else if (c == '"') {
                int end = i + 1;
                while (end < text.length() && text.charAt(end) != '"' && text.charAt(end) != '\n') {
                    end += text.charAt(end) == '\\' ? 2 : 1;
                }
                end = Math.min(end + 1, text.length());
                out.append(text, i, end);
                i = end;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** Removes __attribute__((...)) and __declspec(...) wherever they appear. */
    private static String removeAttributes(String text) {
        StringBuilder out = new StringBuilder(text);
        for (String keyword : List.of("__attribute__", "__declspec")) {
            int at;
            while ((at = out.indexOf(keyword)) >= 0) {
                int open = skipSpaces(out, at + keyword.length());
                int close = open < out.length() && out.charAt(open) == '(' ? matchingParen(out, open) : -1;
                out.replace(at, close < 0 ? at + keyword.length() : close + 1, " ");
            }
        }
        return out.toString();
    }

    private static String removeBraces(String text) {
        StringBuilder out = new StringBuilder();
        int depth = 0;
        for (char c : text.toCharArray()) {
            if (c == '{') {
                depth++;
                if (depth == 1) {
                    out.append(' ');
                }
            } else if (c == '}') {
                depth--;
            } else if (depth == 0) {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean startsWithWord(String s, String word) {
        return s.startsWith(word) && (s.length() == word.length() || !Character.isJavaIdentifierPart(s.charAt(word.length())));
    }

    private static int skipSpaces(CharSequence s, int i) {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    private static int matchingParen(CharSequence s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i;
            }
        }
        return -1;
    }

    private static List<String> splitTopLevel(String s, char separator) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (c == separator && depth == 0) {
                parts.add(s.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(s.substring(start));
        return parts;
    }
}
