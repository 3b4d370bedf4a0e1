"""Notes on the original experiment (the seed of this project).

Its model numbers and results live with the variants in :mod:`flowers.registry`.
"""

VGG16_NOTE = (
    "The original fed VGG16 images scaled to [-1, 1] instead of VGG16's own caffe-style "
    "preprocessing (BGR, ImageNet channel means subtracted); this suite gives every backbone its "
    "own keras.applications preprocess_input, which is why its VGG16 row is far above 0.41."
)
