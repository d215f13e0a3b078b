"""One declarative module per lesson: data, model, bug and fix configs, knobs, symptom bands."""
