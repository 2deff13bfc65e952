package dev.ember.ffi;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * One C function Ember binds: its exported symbol, older symbols to fall back on when a
 * driver predates the preferred one, its C signature as a {@link FunctionDescriptor}, and
 * whether the downcall may skip the JVM's thread-state transition.
 *
 * <p>Binding never fails: when the library or the symbol is missing, the handle it returns
 * throws a {@link CudaException} saying so each time it is called. Classes that hold handles
 * in static finals therefore always initialise, and a machine without CUDA gets a clear
 * message instead of a {@code NoClassDefFoundError}.
 *
 * @param symbol     the preferred exported name (the {@code _v2} name where cuda.h defines one)
 * @param fallbacks  older exported names with the same C signature, tried in order
 * @param descriptor the C signature
 * @param critical   true only for calls that never block and never call back into Java:
 *                   they run without the safepoint transition ({@link Linker.Option#critical})
 */
record NativeFunction(String symbol, List<String> fallbacks, FunctionDescriptor descriptor, boolean critical) {

    NativeFunction {
        fallbacks = List.copyOf(fallbacks);
    }

    /** Every name this function may be bound under, preferred first. */
    List<String> names() {
        List<String> names = new ArrayList<>();
        names.add(symbol);
        names.addAll(fallbacks);
        return names;
    }

    /** A downcall handle to this function in the given library (see the class comment for failures). */
    @SuppressWarnings("restricted") // binding native code is what this module is for
    MethodHandle bind(NativeLibrary library, CudaException.Api api) {
        MethodType type = descriptor.toMethodType();
        SymbolLookup lookup;
        try {
            lookup = library.lookup();
        } catch (NativeLibraryNotFoundException e) {
            String message = e.errorText();
            return thrower(type, () -> new NativeLibraryNotFoundException(library.name(), message, e.searched()));
        }
        for (String name : names()) {
            Optional<MemorySegment> address = lookup.find(name);
            if (address.isPresent()) {
                Linker linker = Linker.nativeLinker();
                return critical
                        ? linker.downcallHandle(address.get(), descriptor, Linker.Option.critical(false))
                        : linker.downcallHandle(address.get(), descriptor);
            }
        }
        String where = library.describe();
        String text = "symbol " + String.join(" / ", names()) + " not found in " + where
                + " (the installed library is older than this binding needs)";
        return thrower(type, () -> new CudaException(api, symbol, -1, "SYMBOL_NOT_FOUND", text));
    }

    private static final MethodHandle RAISE;

    static {
        try {
            RAISE = MethodHandles.lookup().findStatic(NativeFunction.class, "raise",
                    MethodType.methodType(Object.class, Supplier.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // called through RAISE
    private static Object raise(Supplier<? extends RuntimeException> failure) {
        throw failure.get();
    }

    /** A handle of the given type that ignores its arguments and throws a fresh exception from the supplier. */
    private static MethodHandle thrower(MethodType type, Supplier<? extends RuntimeException> failure) {
        MethodHandle raise = RAISE.bindTo(failure).asType(MethodType.methodType(type.returnType()));
        return MethodHandles.dropArguments(raise, 0, type.parameterList());
    }
}
