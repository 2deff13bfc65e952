package dev.ember.autograd;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every check of {@link LinAlgIndexingGradCheckTest}, with the checked functions run on CUDA ({@link Inputs.OnCuda}). */
@Tag("gpu")
@ExtendWith(Inputs.OnCuda.class)
class LinAlgIndexingGradCheckGpuTest extends LinAlgIndexingGradCheckTest {}
