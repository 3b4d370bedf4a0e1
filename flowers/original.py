"""The original experiment's results (the seed of this project), as data.

Kept free of TensorFlow so that reports can show them beside a run's numbers.
"""

ORIGINAL = {
    "basic_cnn": {"model": "1", "test_loss": 0.7827, "test_accuracy": 0.6948},
    "vgg16_transfer": {"model": "2", "test_loss": 0.8474, "test_accuracy": 0.4091},
    "resnet50v2_finetune": {"model": "3.1", "test_loss": 0.3708, "test_accuracy": 0.8801},
    "resnet50v2_finetune_aug": {"model": "3.2", "test_loss": 0.3177, "test_accuracy": 0.9101},
}

VGG16_NOTE = (
    "The original fed VGG16 images scaled to [-1, 1] instead of VGG16's own caffe-style "
    "preprocessing (BGR, ImageNet channel means subtracted); this suite gives every backbone its "
    "own keras.applications preprocess_input, which is why its VGG16 row is far above 0.41."
)
