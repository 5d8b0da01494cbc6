#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace cattery {

// Every knob of the generator and the BEGAN autoencoder discriminator.
struct ArchConfig {
    int imageSize =
        64;            // output width and height: 32, 48, 64, 80, 96 or 128 (base grid = size / 8)
    int channels = 3;  // colour channels of the images (RGB)
    int latentDim = 100;     // dimension of z, 3 to 512
    int nf = 16;             // generator width: stages have 8nf, 4nf, 2nf and nf channels
    int ndf = 32;            // discriminator filters per convolution
    int bottleneck = 64;     // size of the discriminator's fully connected code
    int repeats = 2;         // conv-norm-activation blocks per stage
    bool separable = false;  // depthwise-separable 3x3 convolutions instead of full ones
    bool batchNorm = true;  // batch norm in the generator (the discriminator has none, as in BEGAN)
    bool zSkip = true;      // concatenate a one-channel map of z after each generator stage
    // Upsample that map bilinearly between stages. Repeating its cells instead (files written
    // before this field, which read as false) draws them as squares on 64x64 pictures.
    bool smoothZMap = true;
    // Scale every latent to the length a standard normal one typically has (sqrt(latentDim))
    // before drawing it, so that only its direction matters. The grid's mixes of corners, the
    // three-number corners themselves, arithmetic results and truncated samples are shorter or
    // longer than the random latents a generator trains on; one trained with the weight average
    // and the hinge loss drew them as blank, black or smeared shapes. Files written before this
    // field read as false and draw as they always did.
    bool normalizeZ = true;
    // Scale the latents training draws too (only with normalizeZ). Off, the generator learns from
    // random latents as they come, whose lengths differ from the typical one by a few per cent,
    // and is drawn scaled. On 2,000 procedural cats, runs trained with it came out further from
    // the data in two pairs of three and closer in one (tests/bench/RESULTS.md), so new runs keep
    // training as runs did before the scaling. Files written before this field trained the way
    // they draw.
    bool normalizeZInTraining = false;

    int baseGrid() const { return imageSize / 8; }
};

// The limits validate() enforces, for forms and option checks to share.
struct IntRange {
    int lo;
    int hi;
};
inline constexpr std::array<int, 6> kImageSizes{32, 48, 64, 80, 96, 128};
inline constexpr IntRange kLatentDimRange{3, 512};
inline constexpr IntRange kNfRange{1, 256};
inline constexpr IntRange kNdfRange{1, 512};
inline constexpr IntRange kBottleneckRange{1, 1024};
inline constexpr IntRange kRepeatsRange{1, 4};

bool operator==(const ArchConfig& a, const ArchConfig& b);
inline bool operator!=(const ArchConfig& a, const ArchConfig& b) {
    return !(a == b);
}

// Throws ConfigError naming the first field that is out of range.
void validate(const ArchConfig& config);

// How many values (weights and batch-norm statistics) each network of this architecture holds,
// worked out without building it: a file's records are checked against it before a network as
// large as its header claims is allocated. The discriminator counts its real-or-fake head when
// asked, its patch head and its latent head too. (tests/test_modelfile checks them against built
// networks.)
std::int64_t generatorValueCount(const ArchConfig& config);
std::int64_t discriminatorValueCount(const ArchConfig& config, bool withHead,
                                     bool withPatchHead = false, bool withLatentHead = false);
// The encoder counts the latent head when asked (a model file keeps it where the run trained one).
std::int64_t encoderValueCount(const ArchConfig& config, bool withLatentHead = false);

// The latent head's hidden layer is this many times as wide as the discriminator's bottleneck.
inline constexpr int kLatentHeadWidth = 4;

// One line for logs and `cattery-cli info`.
std::string describe(const ArchConfig& config);

}  // namespace cattery
