"""A pipeline: an extraction tagger finds the aspect terms, a (text, aspect) classifier gives each its sentiment.
This module puts the two exported folders together and scores the result on the end-to-end sets the tagger was
trained on, as ``extract`` scores a unified tagger, so that the two approaches meet in one ledger.

    python -m absa.src.extract --scheme extraction --benchmark rest14+laptop14 --output_dir TAGGER
    python -m absa.src.train --dataset e2e/rest14+laptop14 --output_dir CLASSIFIER
    python -m absa.src.pipeline --tagger TAGGER --classifier CLASSIFIER --output_dir PIPELINE

The pipeline folder is a copy of the tagger folder with the classifier in ``classifier/``, named in its
``absa_config.json``, so ``Extractor`` and ``analyze`` run it as they run any tagger. It is scored through
``Extractor`` (the path ``analyze`` takes), and its ``metrics.json`` is the tagger's record with the pipeline's
scores, ``scheme: pipeline`` and the classifier's configuration: ``python -m absa.src.e2e_ledger PIPELINE`` adds
its row. The classifier must never have seen an end-to-end validation or test sentence: it is trained on the
end-to-end training pairs only (``--dataset e2e/...``), since the SemEval-2014 training files, and every model
trained on them, hold the validation sentences.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from absa.src.config import parse_arguments
from absa.src.data import E2E, load_e2e
from absa.src.extract import spans_of
from absa.src.extractor import Extractor
from absa.src.files import write_json
from absa.src.metrics import span_metrics
from absa.src.model_card import write_tagger_card
from absa.src.modeling import ABSA_CONFIG, read_absa_config
from absa.src.records import RunRecord, git_commit

logger = logging.getLogger(__name__)
CLASSIFIER = "classifier"


@dataclass
class PipelineConfig:
    """Which tagger and classifier make the pipeline, and where it goes."""

    tagger: str = field(metadata={"help": "an extraction tagger folder (absa.src.extract --scheme extraction)"})
    classifier: str = field(metadata={"help": "a classifier folder trained with --dataset e2e/<set>[+<set>]"})
    output_dir: str = field(metadata={"help": "the pipeline folder to write (must not exist yet)"})
    data_dir: str | None = field(default=None, metadata={"help": "default $ABSA_DATA_DIR or absa/data"})
    batch_size: int = field(default=32, metadata={"help": "texts a tagging batch"})

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, not {self.batch_size!r}")
        if Path(self.output_dir).exists():
            raise ValueError(f"output_dir {self.output_dir!r} already exists; a pipeline folder is written whole")


def check_parts(tagger: RunRecord, classifier: RunRecord) -> None:
    """Raise ValueError unless the two can be scored together honestly: an extraction tagger, a classifier trained
    on end-to-end training pairs only, and one seed for both (the seed of the pipeline's ledger row)."""
    if tagger.config.get("scheme") != "extraction":
        raise ValueError(f"the tagger must use extraction tags, not {tagger.config.get('scheme')!r}")
    config = classifier.config
    if "dataset" not in config:
        raise ValueError("the classifier folder holds no classifier record (its config has no dataset)")
    leaks = {
        "dataset": not str(config["dataset"]).startswith(f"{E2E}/"),
        **{key: config.get(key) is not None for key in ("train_file", "extra_train", "init_from", "teacher")},
    }
    if any(leaks.values()):
        raise ValueError(
            f"the classifier trained on {config['dataset']!r} ({', '.join(k for k, bad in leaks.items() if bad)}): "
            f"a pipeline's classifier must train on end-to-end pairs only (--dataset {E2E}/<set>), since the "
            "SemEval-2014 training files hold the end-to-end validation and test sentences"
        )
    if config["seed"] != tagger.config["seed"]:
        raise ValueError(f"tagger seed {tagger.config['seed']} and classifier seed {config['seed']} differ")


def describe_classifier(config: dict) -> str:
    """A classifier's configuration in a few words, e.g. ``mpnet lora r16 lr 0.0005 3 epochs on e2e/rest14``."""
    rank = f" r{config['lora_r']}" if config["regime"] == "lora" else ""
    return (
        f"{config['backbone']} {config['regime']}{rank} lr {config['learning_rate']:g} {config['epochs']} epochs "
        f"on {config['dataset']}"
    )


def score(extractor: Extractor, sentences: list[dict]) -> dict:
    """``span_metrics`` of what ``extractor`` finds in the sentences against their gold aspects."""
    found = extractor.extract([s["text"] for s in sentences], progress=True)
    predicted = [[(a["start"], a["end"], a["label"]) for a in aspects] for aspects in found]
    return span_metrics(spans_of(sentences, "unified"), predicted)


def build_pipeline(config: PipelineConfig) -> RunRecord:
    """Assemble the folder in a temporary place, score it on validation and test, and move it into place."""
    tagger, classifier = RunRecord.load(config.tagger), RunRecord.load(config.classifier)
    check_parts(tagger, classifier)
    output = Path(config.output_dir)
    output.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}."))
    try:
        folder = building / output.name
        shutil.copytree(config.tagger, folder)
        shutil.copytree(config.classifier, folder / CLASSIFIER)
        write_json(folder / ABSA_CONFIG, {**read_absa_config(folder), "classifier": CLASSIFIER})
        extractor = Extractor(folder, batch_size=config.batch_size)
        benchmarks = tagger.config["benchmark"].split("+")
        sets = {name: load_e2e(name, config.data_dir) for name in benchmarks}
        validation = score(extractor, [s for name in benchmarks for s in sets[name]["validation"]])
        test = score(extractor, [s for name in benchmarks for s in sets[name]["test"]])
        if len(benchmarks) > 1:
            test["by_benchmark"] = {name: score(extractor, sets[name]["test"]) for name in benchmarks}
        record = replace(
            tagger,
            config={
                **tagger.config,
                "scheme": "pipeline",
                "classifier": describe_classifier(classifier.config),
                "classifier_config": classifier.config,
            },
            validation=validation,
            test=test,
            train_seconds=round(tagger.train_seconds + classifier.train_seconds, 1),
            commit=git_commit(),
        )
        record.save(folder)
        write_tagger_card(folder, record)
        folder.rename(output)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return record


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = parse_arguments(PipelineConfig)
    try:
        record = build_pipeline(config)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    print(
        f"validation e2e F1 {100 * record.validation['e2e']['f1']:.2f} (extraction "
        f"{100 * record.validation['extraction']['f1']:.2f}); test e2e F1 {100 * record.test['e2e']['f1']:.2f} "
        f"(extraction {100 * record.test['extraction']['f1']:.2f})"
    )
    print(f"exported to {config.output_dir}")


if __name__ == "__main__":
    main()
