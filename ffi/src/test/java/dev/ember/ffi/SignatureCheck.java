package dev.ember.ffi;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Compares a binding's {@link FunctionDescriptor} with a C prototype: same number of
 * arguments, and each argument (and the return value) of the same width and register class.
 * A pointer and an 8-byte integer are interchangeable (handles and device pointers are bound
 * as {@code long}); a float and a 4-byte integer are not, since they travel in different registers.
 */
final class SignatureCheck {

    private SignatureCheck() {
    }

    /** Every difference between the descriptor and the prototype; empty when they agree. */
    static List<String> compare(String symbol, FunctionDescriptor descriptor, CHeader.Prototype prototype) {
        List<String> problems = new ArrayList<>();
        List<MemoryLayout> args = descriptor.argumentLayouts();
        List<CHeader.Param> params = prototype.params();
        if (args.size() != params.size()) {
            problems.add(symbol + ": binds " + args.size() + " arguments but the header declares " + params.size()
                    + " " + describe(params));
        }
        for (int i = 0; i < Math.min(args.size(), params.size()); i++) {
            String problem = mismatch(params.get(i).kind(), args.get(i));
            if (problem != null) {
                problems.add(symbol + ": argument " + (i + 1) + " '" + params.get(i).text() + "' " + problem);
            }
        }
        CHeader.Kind returnKind = prototype.returnKind();
        if (descriptor.returnLayout().isEmpty()) {
            if (returnKind != CHeader.Kind.VOID) {
                problems.add(symbol + ": bound as returning void but the header returns '" + prototype.returnText() + "'");
            }
        } else {
            String problem = mismatch(returnKind, descriptor.returnLayout().get());
            if (problem != null) {
                problems.add(symbol + ": return value '" + prototype.returnText() + "' " + problem);
            }
        }
        return problems;
    }

    /** Null when the layout can carry a C value of this kind, else what is wrong. */
    static String mismatch(CHeader.Kind kind, MemoryLayout layout) {
        if (kind == CHeader.Kind.UNKNOWN || kind == CHeader.Kind.STRUCT || kind == CHeader.Kind.VOID) {
            return "has a type the check cannot resolve to a scalar (" + kind + ")";
        }
        if (!(layout instanceof ValueLayout value)) {
            return "is bound as " + layout + ", not a scalar";
        }
        boolean floating = value.carrier() == float.class || value.carrier() == double.class;
        long bytes = value instanceof AddressLayout ? 8 : value.byteSize();
        if (bytes != kind.bytes || floating != kind.floating) {
            return "is " + kind + " (" + describe(kind.bytes, kind.floating) + ") in the header but bound as "
                    + value + " (" + describe(bytes, floating) + ")";
        }
        return null;
    }

    private static String describe(long bytes, boolean floating) {
        return bytes + "-byte " + (floating ? "floating point" : bytes == 8 ? "integer or pointer" : "integer");
    }

    private static String describe(List<CHeader.Param> params) {
        List<String> texts = new ArrayList<>();
        for (CHeader.Param p : params) {
            texts.add(p.text());
        }
        return "(" + String.join(", ", texts) + ")";
    }
}
