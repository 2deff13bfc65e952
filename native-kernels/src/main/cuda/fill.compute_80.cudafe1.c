# 1 "fill.cu"
