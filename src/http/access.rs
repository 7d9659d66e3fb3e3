//! Who may call each route once accounts exist: one exhaustive decision per
//! route (a new route does not compile without one), checked before the
//! handler runs. Without accounts everyone on the local network may do
//! everything.

use super::route::Route;
use crate::people::Role;

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: health, sign-in, assets.
    Public,
    /// A signed-in person of at least this role (or, for `Viewer` reads,
    /// a guest with `--guest`).
    Role(Role),
}

impl Route<'_> {
    pub fn access(&self) -> Access {
        use Route::*;
        match self {
            Healthz | Readyz | Asset(_) | ServiceWorker | Login | Logout => Access::Public,
            // Watching, and a person's own ratings, favorites, views and
            // positions.
            Gallery | Favorites | BestOf | Random | ApiRandom | Watch(_) | Video(_) | Thumb(..) | Sprite(_)
            | SpriteVtt(_) | Ping | ApiVideos | ApiVideo(_) | ApiTags | ApiEvents | ApiOpenApi | Tags | Tag(_)
            | LegacyViews | ApiRating(_) | ApiFavorite(_) | ApiView(_) | ApiPosition(_) | LegacyRate | LegacyView
            | LegacyFavorite | ApiLink(_) | ApiChat | Subtitle(..) | Playlist | Play(_) => Access::Role(Role::Viewer),
            // A person's own playlists (a guest has none and may make none).
            Playlists | PlaylistPage(_) | ApiPlaylists | ApiPlaylist(_) | ApiPlaylistAdd(_) | ApiPlaylistRemove(..) => {
                Access::Role(Role::Viewer)
            }
            // Changing what everyone sees.
            ApiEditVideo(_) | ApiThumbnail(_) | ApiAddTag(_) | ApiRemoveTag(..) | ApiBatch | LegacyTag
            | LegacyDeleteTag => Access::Role(Role::Editor),
            // Running the server.
            Admin | CacheStatus | CacheRefresh | RegenerateThumbnails | Performance | Metrics | AdminUsers => {
                Access::Role(Role::Admin)
            }
        }
    }
}
