/**
 * QZO: zeroth-order fine-tuning of a quantized model (docs/design.md §3), used by
 * {@code galore finetune --method qzo}. Every matrix is frozen symmetric codes q times trainable
 * per-group scales Δ, W = Δ ⊙ q ({@link io.galore4j.galore.qzo.QzoWeights}); vectors stay frozen.
 * One step ({@link io.galore4j.galore.qzo.Qzo#step}), with perturbation and step relative to each scale:
 * <ol>
 *   <li>draw a step seed; z ~ N(0, I), one draw per scale, is regenerated from (seed, parameter)
 *       whenever it is needed and never stored ({@link io.galore4j.galore.qzo.Perturbation});
 *   <li>L₊ = L(Δ ⊙ (1 + εz)), L₋ = L(Δ ⊙ (1 − εz)): two forward passes on the same batch;
 *   <li>d = clip((L₊ − L₋)/(2ε), −C, C), the clipped two-point estimate of the derivative along z
 *       with respect to log Δ;
 *   <li>Δ ← max(Δ ⊙ (1 − η d z), min_scale), z regenerated once more from the seed.
 * </ol>
 * No gradients and no optimizer state exist: the memory is the quantized model's inference memory
 * plus one decoded matrix per shape. Settings ({@link io.galore4j.galore.qzo.QzoSettings}, keys
 * {@code qzo.*}; defaults in trainer's defaults.yaml): bits 8, group_size 256, eps ε = 1e-3,
 * clip C = 1, lr η = 5e-3 (constant), min_scale 1e-7. The loop that evaluates, steps and keeps the
 * best scales is the trainer's FinetuneJob.
 */
package io.galore4j.galore.qzo;
