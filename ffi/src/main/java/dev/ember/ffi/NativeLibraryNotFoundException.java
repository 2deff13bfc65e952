package dev.ember.ffi;

import java.util.List;

/**
 * A CUDA library could not be found or loaded. The message names the library, every place
 * that was searched (in order) and how to point Ember at the library explicitly.
 */
public final class NativeLibraryNotFoundException extends CudaException {

    private final List<String> searched;

    NativeLibraryNotFoundException(String library, String explanation, List<String> searched) {
        super(Api.LOADER, "load " + library, -1, "LIBRARY_NOT_FOUND", explanation);
        this.searched = List.copyOf(searched);
    }

    /** Every place that was searched, in the order it was searched. */
    public List<String> searched() {
        return searched;
    }
}
